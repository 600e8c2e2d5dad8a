#include <catch2/catch.hpp>

#include "scanner/analyze/analyzer.h"
#include "support/test_support.h"

using namespace scangate;

namespace {
const Analyzer& py() {
  static const auto a = make_python_analyzer();
  return *a;
}
}  // namespace

TEST_CASE("python required() matches dist-info and egg-info metadata anywhere", "[python]") {
  for (const char* p :
       {"usr/lib/python3.12/site-packages/pip-21.2.4.dist-info/METADATA",
        "usr/local/lib/python3.6/site-packages/setuptools-51.3.3.dist-info/METADATA", "pip-21.2.4.dist-info/METADATA",
        "usr/lib/python3/dist-packages/six.egg-info/PKG-INFO", "usr/lib/python3/dist-packages/distro_info-1.0.egg-info",
        "usr/lib/python2.7/site-packages/foo-1.0-py2.7.egg/EGG-INFO/PKG-INFO"}) {
    CAPTURE(p);
    CHECK(py().required(p));
  }
  for (const char* p :
       {"usr/lib/python3.12/site-packages/pip/METADATA", "x.dist-info/RECORD", "x.dist-info/METADATA.bak",
        ".dist-info/METADATA", "x.egg-info/SOURCES.txt", "PKG-INFO", "METADATA"}) {
    CAPTURE(p);
    CHECK_FALSE(py().required(p));
  }
}

TEST_CASE("python parses the real pip and setuptools METADATA", "[python]") {
  struct Case {
    const char* dir;
    const char* name;
    const char* version;
    const char* license;
  };
  // Name and version from the directory names; pip has "License: MIT", setuptools only the
  // classifier "License :: OSI Approved :: MIT License".
  const Case cases[] = {{"pip-21.2.4.dist-info", "pip", "21.2.4", "MIT"},
                        {"setuptools-51.3.3.dist-info", "setuptools", "51.3.3", "MIT License"}};
  for (const auto& c : cases) {
    CAPTURE(c.dir);
    const std::string content =
        test::read_file(test::testdata(std::string("images/python-dist-info/") + c.dir + "/METADATA"));
    const std::string path = std::string("usr/local/lib/python3.9/site-packages/") + c.dir + "/METADATA";
    REQUIRE(py().required(path));
    auto r = py().analyze({path, content});
    REQUIRE(r.ok());
    REQUIRE(r->packages.size() == 1);
    const auto& p = r->packages[0];
    CHECK(p.type == "pypi");
    CHECK(p.name == c.name);
    CHECK(p.version == c.version);
    CHECK(p.licenses == std::vector<std::string>{c.license});
    CHECK(p.file_path == path);
  }
}

TEST_CASE("python licence precedence and missing fields", "[python]") {
  auto one = [](const std::string& meta) {
    auto r = py().analyze({"a-1.dist-info/METADATA", meta});
    REQUIRE(r.ok());
    return r.value();
  };
  auto expr =
      one("Metadata-Version: 2.4\nName: a\nVersion: 1\nLicense-Expression: Apache-2.0 OR MIT\nLicense: BSD\n"
          "Classifier: License :: OSI Approved :: BSD License\n");
  CHECK(expr.packages.at(0).licenses == std::vector<std::string>{"Apache-2.0 OR MIT"});
  auto unknown =
      one("Name: a\nVersion: 1\nLicense: UNKNOWN\nClassifier: License :: OSI Approved :: Apache Software License\n"
          "Classifier: License :: OSI Approved\n");
  CHECK(unknown.packages.at(0).licenses == std::vector<std::string>{"Apache Software License"});
  auto text =
      one("Name: a\nVersion: 1\nLicense: Copyright (c) 2020\n        Permission is hereby granted\n"
          "Classifier: License :: OSI Approved :: MIT License\n\nLicense: body text is not a header\n");
  CHECK(text.packages.at(0).licenses == std::vector<std::string>{"MIT License"});
  auto none = one("Name: a\nVersion: 2.0\n");
  CHECK(none.packages.at(0).licenses.empty());
  CHECK(none.packages.at(0).version == "2.0");

  auto noversion = one("Metadata-Version: 2.1\nName: a\n");
  CHECK(noversion.packages.empty());
  REQUIRE(noversion.warnings.size() == 1);
  CHECK(noversion.warnings[0].find("Version") != std::string::npos);

  auto garbage = one(std::string("\x89PNG\r\n\x1a\n\0\0", 10));
  CHECK(garbage.packages.empty());
}
