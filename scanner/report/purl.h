// Package URLs (purl) for the package types scangate inventories.
#pragma once

#include <string>

#include "scanner/core/inventory.h"

namespace scangate {

// pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=3.20.3
// pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12 (distro = family-OSInfo::name; epoch as the
// `epoch` qualifier)
// pkg:pypi/pip@21.2.4, pkg:npm/%40scope/thing@2.0.1
std::string make_purl(const Package& p, const OSInfo& os);

// Percent-encodes per the purl spec (unreserved characters stay as they are).
std::string purl_encode(const std::string& s);

}  // namespace scangate
