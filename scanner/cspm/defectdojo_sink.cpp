// DefectDojo's import endpoint (see sink.h for the request).
#include "scanner/cspm/http_send.h"
#include "scanner/cspm/sink.h"

namespace scangate::cspm {

namespace {

class DefectDojoSink : public Sink {
 public:
  explicit DefectDojoSink(DefectDojoConfig config) : config_(std::move(config)) {}

  std::string describe() const override { return "DefectDojo " + config_.base_url; }

  Result<SendOutcome> send(const SpoolEntry& entry) override {
    MultipartPost post;
    post.base_url = config_.base_url;
    post.path_and_query = "/api/v2/import-scan/";
    post.headers.emplace_back("Authorization", "Token " + config_.token);
    post.headers.emplace_back("Idempotency-Key", entry.id);
    post.headers.emplace_back("X-Scangate-Report-Id", entry.id);
    auto it = entry.metadata.find(kMetaFileName);
    std::string filename = it == entry.metadata.end() || it->second.empty() ? "report.json" : it->second;
    post.parts.push_back({"scan_type", config_.scan_type, "", ""});
    if (!config_.engagement_id.empty()) {
      post.parts.push_back({"engagement", config_.engagement_id, "", ""});
    } else {
      post.parts.push_back({"product_name", config_.product_name, "", ""});
      post.parts.push_back({"engagement_name", config_.engagement_name, "", ""});
      if (!config_.product_type_name.empty())
        post.parts.push_back({"product_type_name", config_.product_type_name, "", ""});
      if (config_.auto_create_context) post.parts.push_back({"auto_create_context", "true", "", ""});
    }
    post.parts.push_back({"file", entry.payload, filename, "application/json"});
    post.http = config_.http;
    post.secrets = {config_.token};
    return post_multipart(post);
  }

 private:
  DefectDojoConfig config_;
};

}  // namespace

std::unique_ptr<Sink> make_defectdojo_sink(DefectDojoConfig config) {
  return std::make_unique<DefectDojoSink>(std::move(config));
}

}  // namespace scangate::cspm
