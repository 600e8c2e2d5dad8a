#include "scanner/image/open_source.h"

#include "scanner/image/archive_source.h"
#include "scanner/image/platform.h"
#include "scanner/image/reference.h"
#include "scanner/image/registry_source.h"

namespace scangate {

Result<RegistryClientOptions> registry_client_options(const SourceOptions& o) {
  RegistryClientOptions ro;
  ro.credential = o.credential;
  auto store = load_credentials(o.credential_sources);
  if (!store.ok()) return store.error();
  ro.credentials = std::move(store).value();
  ro.ca_file = o.ca_file;
  ro.insecure_registries = o.insecure_registries;
  ro.retry = o.retry;
  ro.sleeper = o.sleeper;
  ro.connect_timeout = o.connect_timeout;
  ro.read_timeout = o.read_timeout;
  ro.warn = o.warn;
  return ro;
}

Result<std::shared_ptr<RegistryClient>> make_registry_client(const SourceOptions& o) {
  auto ro = registry_client_options(o);
  if (!ro.ok()) return ro.error();
  return make_http_registry_client(std::move(ro).value());
}

Result<std::unique_ptr<ImageSource>> open_image_source(const SourceOptions& o) {
  Platform platform;
  if (!o.platform.empty()) {
    auto p = parse_platform(o.platform);
    if (!p.ok()) return p.error();
    platform = *p;
  }
  if (!o.input.empty()) {
    ArchiveSourceOptions ao;
    ao.path = o.input;
    ao.reference = o.reference;
    ao.platform = platform;
    ao.warn = o.warn;
    return open_archive_source(ao);
  }
  if (o.reference.empty())
    return Error(ErrorKind::kInvalidArgument, "no image given: pass an image reference or --input FILE");
  auto ref = parse_reference(o.reference);
  if (!ref.ok()) return ref.error();
  std::shared_ptr<RegistryClient> client = o.client;
  if (!client) {
    auto c = make_registry_client(o);
    if (!c.ok()) return c.error();
    client = std::move(c).value();
  }
  RegistrySourceOptions rs;
  rs.input_reference = o.reference;
  rs.platform = platform;
  rs.platform_explicit = !o.platform.empty();
  rs.warn = o.warn;
  rs.deadline = o.deadline;
  return make_registry_source(std::move(client), std::move(ref).value(), std::move(rs));
}

}  // namespace scangate
