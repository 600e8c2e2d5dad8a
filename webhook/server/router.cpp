#include "webhook/server/router.h"

#include <cctype>
#include <memory>

#include "webhook/admission/pin.h"
#include "webhook/server/metrics.h"
#include "webhook/server/target.h"

namespace scangate::webhook {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

Response method_not_allowed(const char* allow, std::string_view path) {
  Response r = text_response(405, "method not allowed: " + std::string(path) + " accepts " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

// The AdmissionReview of a POST to `path`, or nullopt once `respond` has answered why not (405,
// 415, or the codec's 400).
std::optional<admission::AdmissionRequest> read_review(const Request& req, const char* path, const Respond& respond) {
  if (req.method != "POST") {
    respond(method_not_allowed("POST", path));
    return std::nullopt;
  }
  auto ct = req.header("Content-Type");
  if (!is_json_content_type(ct)) {
    respond(text_response(
        415, "unsupported Content-Type \"" + std::string(ct) + "\": POST an AdmissionReview as application/json"));
    return std::nullopt;
  }
  auto parsed = admission::parse_admission_review(req.body);
  if (!parsed) {
    respond(text_response(admission::admission_http_status(parsed.error()),
                          "invalid AdmissionReview: " + parsed.error().message));
    return std::nullopt;
  }
  return std::move(parsed).value();
}

void validate(const RouterOptions& opt, Request req, Respond respond) {
  auto parsed = read_review(req, "/validate", respond);
  if (!parsed) return;
  DecideContext ctx;
  ctx.timeout = request_timeout(req.query());
  ctx.received = req.received;

  // The decider takes the request; the reply and the metrics need only these four fields.
  admission::AdmissionRequest request = std::move(*parsed);
  struct Echo {
    std::string api_version, uid, operation, kind;
  };
  WebhookMetrics* metrics = opt.metrics;
  auto done = [echo = Echo{request.api_version, request.uid, request.operation, request.kind.kind}, metrics,
               respond = std::move(respond), received = req.received](admission::AdmissionDecision d) {
    if (metrics != nullptr) {
      metrics->admission_request(echo.operation, echo.kind, d.allowed).Increment();
      auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count();
      (d.cache_miss ? metrics->admission_duration_miss : metrics->admission_duration_hit).Observe(secs);
    }
    Response r;
    r.content_type = "application/json";
    r.body = admission::render_admission_response(echo.api_version, echo.uid, d);
    respond(std::move(r));
  };
  if (!opt.decider) {
    admission::AdmissionDecision d;
    d.allowed = false;
    d.code = 500;
    d.message = "scangate: no verdict engine configured";
    return done(std::move(d));
  }
  opt.decider(std::move(request), ctx, std::move(done));
}

// The mutating webhook: pins each new `image: repo:tag` to the digest the verdict engine resolves
// it to (webhook/admission/pin.h). It never denies and never fails the request for want of a
// digest: an image left unpinned is still judged by the validating webhook, fail closed.
void mutate(const RouterOptions& opt, Request req, Respond respond) {
  auto parsed = read_review(req, "/mutate", respond);
  if (!parsed) return;
  auto fields = admission::image_fields(req.body);
  if (!fields) {
    int status = admission::admission_http_status(fields.error());
    return respond(text_response(status, "invalid AdmissionReview: " + fields.error().message));
  }
  auto reply = [respond = std::move(respond)](const admission::AdmissionRequest& r, const std::string& patch,
                                              const std::vector<std::string>& warnings) {
    Response out;
    out.content_type = "application/json";
    out.body = admission::render_mutation_response(r, patch, warnings);
    respond(std::move(out));
  };
  admission::AdmissionRequest request = std::move(*parsed);
  // Re-applied unpinned images keep the digest they ran with; the others are resolved.
  std::vector<admission::ImagePin> pins;
  bool resolve = false;
  for (const auto& f : *fields) {
    if (!f.previous_digest.empty())
      pins.emplace_back(f.pointer, f.image, admission::pin_image(f.image, f.previous_digest));
    else
      resolve = true;
  }
  if (!resolve || !opt.pinner) return reply(request, admission::render_json_patch(pins), {});
  DecideContext ctx;
  ctx.timeout = request_timeout(req.query());
  ctx.received = req.received;
  auto head = std::make_shared<admission::AdmissionRequest>();
  head->api_version = request.api_version;
  head->uid = request.uid;
  opt.pinner(std::move(request), ctx,
             [head, fields = std::move(fields).value(), pins = std::move(pins),
              reply = std::move(reply)](admission::AdmissionDecision d) mutable {
               std::vector<std::string> warnings;
               for (const auto& f : fields) {
                 if (!f.previous_digest.empty()) continue;
                 auto it = d.digests.find(f.image);
                 if (it == d.digests.end() || !admission::is_pinnable_digest(it->second)) {
                   warnings.push_back("scangate: " + std::string(admission::to_string(f.kind)) + " \"" + f.container +
                                      "\" image " + f.image + " was not pinned (its digest was not resolved in time)");
                   continue;
                 }
                 pins.emplace_back(f.pointer, f.image, admission::pin_image(f.image, it->second));
               }
               reply(*head, admission::render_json_patch(pins), warnings);
             });
}

}  // namespace

bool is_json_content_type(std::string_view ct) {
  auto semi = ct.find(';');
  std::string_view media = trim(ct.substr(0, semi));
  if (!iequals(media, "application/json")) return false;
  if (semi == std::string_view::npos) return true;
  // Parameters: only charset=utf-8 (any case, optionally quoted) is accepted.
  std::string_view params = ct.substr(semi + 1);
  while (!params.empty()) {
    auto next = params.find(';');
    std::string_view p = trim(params.substr(0, next));
    params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
    if (p.empty()) continue;
    auto eq = p.find('=');
    if (eq == std::string_view::npos) return false;
    std::string_view name = trim(p.substr(0, eq)), value = trim(p.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (!iequals(name, "charset") || !iequals(value, "utf-8")) return false;
  }
  return true;
}

Handler make_router(RouterOptions options) {
  auto opt = std::make_shared<const RouterOptions>(std::move(options));
  return [opt](Request req, Respond respond) {
    std::string_view path = req.path();
    if (path == "/validate") return validate(*opt, std::move(req), std::move(respond));
    if (path == "/mutate") return mutate(*opt, std::move(req), std::move(respond));
    if (path == "/healthz") {
      if (req.method != "GET" && req.method != "HEAD") return respond(method_not_allowed("GET, HEAD", path));
      return respond(text_response(200, "ok"));
    }
    if (path == "/readyz") {
      if (req.method != "GET" && req.method != "HEAD") return respond(method_not_allowed("GET, HEAD", path));
      if (opt->draining != nullptr && opt->draining->load())
        return respond(text_response(503, "not ready: stopping (draining; requests are still answered)"));
      if (opt->ready != nullptr && opt->ready->load()) return respond(text_response(200, "ready"));
      return respond(text_response(503, "not ready: the vulnerability DB and the policy are still loading"));
    }
    respond(text_response(404, "not found: " + std::string(path) +
                                   " (endpoints: POST /validate, POST /mutate, GET /healthz, GET /readyz)"));
  };
}

}  // namespace scangate::webhook
