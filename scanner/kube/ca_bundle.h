// What a CA bundle must hold before it is trusted or published: PEM certificates, each one whole.
// A ValidatingWebhookConfiguration's caBundle that does not parse (a CA file read while it was
// being written, a file of the wrong kind) makes every call to a fail-closed webhook fail, so the
// publisher checks the bundle first and keeps the configuration in force instead.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "scanner/core/result.h"

namespace scangate::kube {

// The largest CA bundle read (a public-roots bundle is ~220 KiB).
inline constexpr size_t kMaxCaBundleBytes = 512 * 1024;

// The number of certificates in `pem` when it holds at least one, every "-----BEGIN" block is a
// CERTIFICATE that parses whole (nothing cut short, no private key), and it is at most
// kMaxCaBundleBytes. `what` names the source in the error.
Result<size_t> check_ca_bundle(std::string_view pem, const std::string& what);

// `path` read whole, refused when larger than `max_bytes` (the size is not trusted: the read stops
// past it). `what` names the file in the error.
Result<std::string> read_file_bounded(const std::string& path, size_t max_bytes, const std::string& what);

}  // namespace scangate::kube
