// make_purl / purl_encode against the purl spec's rules and the purls Trivy wrote into its
// golden reports.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "report_fixtures.h"
#include "scanner/report/purl.h"

using nlohmann::json;
using namespace scangate;

namespace {

Package pkg(std::string type, std::string name, std::string version, std::string arch = "") {
  Package p;
  p.type = std::move(type);
  p.name = std::move(name);
  p.version = std::move(version);
  p.arch = std::move(arch);
  return p;
}

}  // namespace

TEST_CASE("purl: hand-chosen packages per type", "[purl]") {
  OSInfo alpine{"alpine", "3.20.3", "", ""};
  OSInfo buster{"debian", "10.1", "", "buster"};
  OSInfo none;
  CHECK(make_purl(pkg("apk", "musl", "1.2.5-r0", "x86_64"), alpine) ==
        "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=3.20.3");
  // Epoch: out of the version into the `epoch` qualifier; qualifiers in key order
  // (docker-ce 5:20.10.7~3-0~debian-buster from Trivy's dpkg third-party test data).
  CHECK(make_purl(pkg("deb", "docker-ce", "5:20.10.7~3-0~debian-buster", "amd64"), buster) ==
        "pkg:deb/debian/docker-ce@20.10.7~3-0~debian-buster?arch=amd64&distro=debian-10.1&epoch=5");
  // PyPI names are lower-cased with '_' as '-' (purl spec's own example: django_allauth).
  CHECK(make_purl(pkg("pypi", "Django_Allauth", "12.23"), none) == "pkg:pypi/django-allauth@12.23");
  CHECK(make_purl(pkg("pypi", "pip", "21.2.4"), none) == "pkg:pypi/pip@21.2.4");
  // npm scope is the namespace; its '@' is percent-encoded.
  CHECK(make_purl(pkg("npm", "@scope/thing", "2.0.1"), none) == "pkg:npm/%40scope/thing@2.0.1");
  CHECK(make_purl(pkg("npm", "lodash", "4.17.21"), none) == "pkg:npm/lodash@4.17.21");
}

TEST_CASE("purl: the purls of Trivy's golden reports (apk, deb, Debian and Ubuntu releases)", "[purl]") {
  auto file = GENERATE(as<std::string>{}, "trivy_alpine-310.json.golden", "trivy_alpine-39.json.golden",
                       "trivy_debian-buster.json.golden", "trivy_distroless-python27.json.golden",
                       "trivy_ubuntu-1804.json.golden");
  INFO(file);
  json doc = scangate::test::load_json("reports/" + file);
  OSInfo os{doc["Metadata"]["OS"]["Family"], doc["Metadata"]["OS"]["Name"], "", ""};
  for (const auto& v : doc["Results"][0]["Vulnerabilities"]) {
    std::string expected = v["PkgIdentifier"]["PURL"];
    INFO(expected);
    Package p = pkg(os.family == "alpine" ? "apk" : "deb", v["PkgName"], v["InstalledVersion"],
                    scangate::test::purl_qualifier(expected, "arch"));
    CHECK(make_purl(p, os) == expected);
  }
}

TEST_CASE("purl: percent-encoding keeps unreserved characters only", "[purl]") {
  CHECK(purl_encode("a-b.c_d~e") == "a-b.c_d~e");
  CHECK(purl_encode("@scope") == "%40scope");
  CHECK(purl_encode("a b/c?d#e&f=g") == "a%20b%2Fc%3Fd%23e%26f%3Dg");
  CHECK(purl_encode("\xC3\xA9") == "%C3%A9");  // UTF-8 bytes one by one
}
