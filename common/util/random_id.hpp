// Session identifiers from the kernel's CSPRNG (getrandom): 120 bits as 20
// URL-safe characters. Thread: any.
#pragma once

#include <string>

namespace clubvoice {

std::string random_id();

}  // namespace clubvoice
