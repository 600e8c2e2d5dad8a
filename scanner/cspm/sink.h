// The delivery seam: one spooled report to one backend. The uploader decides about retries and the
// spool; a sink only performs one attempt and classifies its outcome.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "scanner/core/result.h"
#include "scanner/cspm/config.h"
#include "scanner/cspm/spool.h"

namespace scangate::cspm {

enum class SendStatus {
  kDelivered,      // 2xx
  kRetryable,      // connection error, timeout, 408, 429, 5xx
  kPermanentAuth,  // 401, 403: the token or tenant is wrong
  kPermanent,      // any other 4xx (or 3xx): the server will never accept this request
};

const char* to_string(SendStatus s);

struct SendOutcome {
  SendStatus status = SendStatus::kRetryable;
  int http_status = 0;  // 0 when there was no response
  std::optional<std::chrono::milliseconds> retry_after;
  std::string detail;  // what happened, redacted, for logs and errors
};

class Sink {
 public:
  virtual ~Sink() = default;
  // "AccuKnox CSPM https://host" (no secrets)
  virtual std::string describe() const = 0;
  // One attempt. An Error means the attempt could not be made for a local reason (bad CA file,
  // untrusted server certificate): retrying will not help, and the report stays pending.
  virtual Result<SendOutcome> send(const SpoolEntry& entry) = 0;
};

// The exact request of the AccuKnox CI integrations:
//   POST {base}/api/v1/artifact/?tenant_id=T&data_type=TR&label_id=L&save_to_s3=false
//   Tenant-Id: T, Authorization: Bearer TOKEN, multipart field "file" holding the report.
// (tenant_id/Tenant-Id and label_id are left out when not configured.) Each request also carries
// "Idempotency-Key" and "X-Scangate-Report-Id" set to the spool id: the AccuKnox backend ignores
// unknown headers, while scangate's own receiver stores each id once, so a report resent after a
// crash between delivery and acknowledgement is not stored twice.
std::unique_ptr<Sink> make_accuknox_sink(CspmConfig config);

// DefectDojo: POST {base}/api/v2/import-scan/ with "Authorization: Token KEY" and multipart fields
// file, scan_type, and engagement, or product_name + engagement_name (+ product_type_name,
// auto_create_context=true).
std::unique_ptr<Sink> make_defectdojo_sink(DefectDojoConfig config);

}  // namespace scangate::cspm
