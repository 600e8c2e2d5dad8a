#include "scanner/report/purl.h"

#include <cctype>

namespace scangate {

std::string purl_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

namespace {

std::string pypi_name(const std::string& n) {
  std::string out;
  for (char c : n) out += (c == '_' || c == '.') ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string make_purl(const Package& p, const OSInfo& os) {
  if (p.type == "apk") {
    std::string q;
    if (!p.arch.empty()) q += "arch=" + purl_encode(p.arch);
    if (!os.name.empty()) q += std::string(q.empty() ? "" : "&") + "distro=" + purl_encode(os.name);
    std::string ns = os.family.empty() ? "alpine" : os.family;
    return "pkg:apk/" + ns + "/" + purl_encode(p.name) + "@" + purl_encode(p.version) + (q.empty() ? "" : "?" + q);
  }
  if (p.type == "deb") {
    std::string version = p.version;
    std::string epoch;
    auto colon = version.find(':');
    if (colon != std::string::npos) {
      epoch = version.substr(0, colon);
      version = version.substr(colon + 1);
    }
    std::string q;
    if (!p.arch.empty()) q += "arch=" + purl_encode(p.arch);
    if (!os.name.empty()) {
      // family-version as the OS was detected, as Trivy writes it ("debian-10.1", "ubuntu-18.04";
      // see ../shared/testdata/reports/*.golden): cutting at the first '.' would give "ubuntu-18".
      const std::string& release = os.name;
      q += std::string(q.empty() ? "" : "&") +
           "distro=" + purl_encode((os.family.empty() ? "debian" : os.family) + "-" + release);
    }
    if (!epoch.empty()) q += std::string(q.empty() ? "" : "&") + "epoch=" + purl_encode(epoch);
    std::string ns = os.family.empty() ? "debian" : os.family;
    return "pkg:deb/" + ns + "/" + purl_encode(p.name) + "@" + purl_encode(version) + (q.empty() ? "" : "?" + q);
  }
  if (p.type == "pypi") return "pkg:pypi/" + purl_encode(pypi_name(p.name)) + "@" + purl_encode(p.version);
  if (p.type == "npm") {
    std::string name = p.name;
    if (!name.empty() && name[0] == '@') {
      auto slash = name.find('/');
      if (slash != std::string::npos) {
        return "pkg:npm/" + purl_encode(name.substr(0, slash)) + "/" + purl_encode(name.substr(slash + 1)) + "@" +
               purl_encode(p.version);
      }
    }
    return "pkg:npm/" + purl_encode(name) + "@" + purl_encode(p.version);
  }
  return "pkg:generic/" + purl_encode(p.name) + "@" + purl_encode(p.version);
}

}  // namespace scangate
