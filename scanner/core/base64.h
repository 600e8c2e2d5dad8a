// Standard base64 (RFC 4648, with padding), decoding only: what Kubernetes Secret data,
// kubeconfig certificate data and Docker's `auth` fields hold.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace scangate {

// The decoded bytes; nullopt when `in` is not base64. ASCII whitespace is ignored.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace scangate
