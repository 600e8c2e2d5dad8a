// Standard base64 (RFC 4648, with padding): what Kubernetes Secret data, kubeconfig certificate
// data, Docker's `auth` fields and DSSE envelopes hold.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace scangate {

// The decoded bytes; nullopt when `in` is not base64. ASCII whitespace is ignored.
std::optional<std::string> base64_decode(std::string_view in);
// With padding, no line breaks.
std::string base64_encode(std::string_view in);

}  // namespace scangate
