// The AccuKnox CSPM artifact endpoint (see sink.h for the request).
#include "scanner/cspm/http_send.h"
#include "scanner/cspm/sink.h"

namespace scangate::cspm {

namespace {

class AccuknoxSink : public Sink {
 public:
  explicit AccuknoxSink(CspmConfig config) : config_(std::move(config)) {}

  std::string describe() const override { return "AccuKnox CSPM " + config_.base_url; }

  Result<SendOutcome> send(const SpoolEntry& entry) override {
    auto meta = [&](const char* key) -> std::string {
      auto it = entry.metadata.find(key);
      return it == entry.metadata.end() ? std::string() : it->second;
    };
    std::string data_type = meta(kMetaDataType);
    if (data_type.empty()) data_type = config_.data_type;
    if (data_type.empty()) data_type = detect_data_type(entry.payload);
    std::string label = meta(kMetaLabel);
    if (label.empty()) label = config_.label;

    MultipartPost post;
    post.base_url = config_.base_url;
    post.path_and_query = "/api/v1/artifact/?";
    if (!config_.tenant_id.empty()) post.path_and_query += "tenant_id=" + url_encode(config_.tenant_id) + "&";
    post.path_and_query += "data_type=" + url_encode(data_type);
    if (!label.empty()) post.path_and_query += "&label_id=" + url_encode(label);
    post.path_and_query += "&save_to_s3=false";
    if (!config_.tenant_id.empty()) post.headers.emplace_back("Tenant-Id", config_.tenant_id);
    post.headers.emplace_back("Authorization", "Bearer " + config_.token);
    post.headers.emplace_back("Idempotency-Key", entry.id);
    post.headers.emplace_back("X-Scangate-Report-Id", entry.id);
    std::string filename = meta(kMetaFileName);
    post.parts.push_back({"file", entry.payload, filename.empty() ? "report.json" : filename, "application/json"});
    post.http = config_.http;
    post.secrets = {config_.token};
    return post_multipart(post);
  }

 private:
  CspmConfig config_;
};

}  // namespace

std::unique_ptr<Sink> make_accuknox_sink(CspmConfig config) {
  return std::make_unique<AccuknoxSink>(std::move(config));
}

}  // namespace scangate::cspm
