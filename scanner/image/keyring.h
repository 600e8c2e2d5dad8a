// Registry credentials chosen per image the way the kubelet chooses them from a pod's pull
// secrets (its "docker keyring"):
//   - an entry's key is its `auths` key without a scheme and without a leading /v1/ or /v2/ path
//     ("https://reg.example.com:5000/v2/" -> "reg.example.com:5000", "reg.example.com/team");
//   - a key matches an image "host[:port]/repository" when the ports are equal (no port matches
//     only no port), the hosts have as many dot-separated parts and each key part is a glob
//     (fnmatch: "*", "?", "[...]") for the image's part, and the key's path is a prefix of the
//     image's path ("/team" matches "/team/app", and also "/teamb/app", as the kubelet does);
//   - every matching entry is returned, most specific first (the keys in reverse lexicographic
//     order, entries of one key in the order added); a Docker Hub image also takes the entries
//     keyed "index.docker.io" when nothing else matched.
// The pod's keyring is tried entry by entry until one reaches the image (the kubelet does the
// same with the pull), then the ServiceAccount's, then the webhook's own credentials.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scanner/image/credentials.h"
#include "scanner/image/reference.h"

namespace scangate {

struct KeyedCredential {
  Credential credential;
  std::string origin;  // where it came from, for messages: "secret team-a/regcred" (never the secret)
  std::string key;     // the normalised key it matched by
};

class DockerKeyring {
 public:
  // Adds the `auths` entries of `store` (its raw keys), naming `origin` in messages. An entry
  // whose key is not usable is skipped.
  void add(const CredentialStore& store, const std::string& origin);
  // The credentials for `ref`, most specific first; empty: none matches (the pull is anonymous).
  std::vector<KeyedCredential> lookup(const Reference& ref) const;
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

 private:
  std::vector<KeyedCredential> entries_;  // in the order added
};

// An `auths` key as the keyring keeps it; "" when it names no host.
std::string keyring_key(std::string_view raw_key);
// Whether keyring key `key` matches `target` ("host[:port]/path", no scheme).
bool keyring_match(std::string_view key, std::string_view target);

}  // namespace scangate
