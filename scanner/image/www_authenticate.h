// Parser for the WWW-Authenticate response header (RFC 7235), e.g.
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"
//   Basic realm="Registry Realm"
// Several challenges may share one header, separated by commas.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/result.h"

namespace scangate {

struct AuthChallenge {
  std::string scheme;                         // lowercased: "bearer", "basic"
  std::map<std::string, std::string> params;  // keys lowercased, values unquoted
  std::string token68;                        // for schemes that carry one instead of params

  // Value of a parameter (case-insensitive name), or "" when absent.
  std::string param(std::string_view name) const;
};

// Malformed headers (unterminated quotes, missing scheme, stray characters) are kFormat errors.
Result<std::vector<AuthChallenge>> parse_www_authenticate(std::string_view header);

}  // namespace scangate
