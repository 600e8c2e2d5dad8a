// libFuzzer target: Docker's config.json and the legacy .dockercfg (scanner/image/credentials.h),
// as --registry-config and the pull secrets of a pod (kubernetes.io/dockerconfigjson and
// kubernetes.io/dockercfg Secrets, a tenant's input) hold them, and the kubelet's keyring matching
// of their entries (scanner/image/keyring.h).
//
// Properties: refusals are kFormat; with helpers disallowed (a Secret) no helper is kept, ever;
// every stored host key is its own credential_host_key() and find() returns its credential; every
// stored credential has something in it; the keyring's matches for a few images carry a key.
// Nothing is run: lookup() (which may run a helper) is never called.
#include "scanner/image/credentials.h"
#include "scanner/image/keyring.h"
#include "tests/fuzz/fuzz_check.h"

using namespace scangate;

namespace {

[[noreturn]] void fail(const std::string& what, std::string_view in) { fuzz::fail("docker_config_fuzz", what, in); }

void check_store(const Result<CredentialStore>& s, bool helpers_allowed, std::string_view in) {
  if (!s.ok()) {
    if (s.error().kind != ErrorKind::kFormat) fail("refused with another kind: " + s.error().message, in);
    return;
  }
  if (!helpers_allowed && (!s->cred_helpers.empty() || !s->creds_store.empty() || s->helpers))
    fail("a helper kept from a config that may not name one", in);
  for (const auto& [host, cred] : s->by_host) {
    if (credential_host_key(host) != host) fail("host key \"" + host + "\" is not normalised", in);
    auto found = s->find(host);
    if (!found || found->username != cred.username || found->password != cred.password)
      fail("find(\"" + host + "\") misses its credential", in);
  }
  if (s->entries.size() < s->by_host.size()) fail("fewer entries than hosts", in);
  for (const auto& [key, cred] : s->entries) {
    if (cred.empty()) fail("an empty credential stored under \"" + key + "\"", in);
    (void)keyring_key(key);
    (void)keyring_match(keyring_key(key), "registry.example.com:5000/team/app");
  }
  DockerKeyring keyring;
  keyring.add(*s, "secret fuzz/regcred");
  static const std::string kImages[] = {"alpine:3.20", "registry.example.com:5000/team/app:1.0",
                                        "ghcr.io/org/app@sha256:" + std::string(64, '0')};
  for (const auto& image : kImages) {
    auto ref = parse_reference(image);
    if (!ref.ok()) std::abort();
    for (const auto& k : keyring.lookup(*ref))
      if (k.key.empty()) fail("a keyring match for " + image + " without a key", in);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);
  check_store(parse_docker_config(in, "fuzz/config.json", false), false, in);
  check_store(parse_docker_config(in, "fuzz/config.json", true), true, in);
  check_store(parse_dockercfg(in, "secret fuzz/legacy"), false, in);
  return 0;
}
