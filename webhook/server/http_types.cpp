#include "webhook/server/http_types.h"

#include <strings.h>

namespace scangate::webhook {

std::string_view Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), name.size()) == 0) return v;
  return {};
}

std::string_view Request::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view Request::query() const {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
}

Response text_response(int status, std::string message) {
  Response r;
  r.status = status;
  if (message.empty() || message.back() != '\n') message.push_back('\n');
  r.body = std::move(message);
  return r;
}

}  // namespace scangate::webhook
