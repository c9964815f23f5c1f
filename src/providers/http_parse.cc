#include "providers/http_parse.h"

#include <cctype>

namespace upager::internal::http {

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

bool ParseNumber(std::string_view* text, uint64_t* out) {
  uint64_t value = 0;
  size_t i = 0;
  for (; i < text->size() && (*text)[i] >= '0' && (*text)[i] <= '9'; ++i) {
    const uint64_t digit = static_cast<uint64_t>((*text)[i] - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  if (i == 0) return false;
  text->remove_prefix(i);
  *out = value;
  return true;
}

long StatusLineCode(std::string_view line) {
  if (!StartsWithNoCase(line, "HTTP/")) return 0;
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) return 0;
  std::string_view rest = line.substr(space + 1);
  uint64_t code = 0;
  if (!ParseNumber(&rest, &code) || code > 999) return 0;
  return static_cast<long>(code);
}

bool ParseContentRange(std::string_view line, ContentRange* out) {
  constexpr std::string_view kName = "content-range:";
  if (!StartsWithNoCase(line, kName)) return false;
  std::string_view v = Trim(line.substr(kName.size()));
  if (!StartsWithNoCase(v, "bytes")) return true;  // a unit we do not know: no range
  v = Trim(v.substr(5));
  ContentRange r;
  if (!v.empty() && v.front() == '*') {
    v.remove_prefix(1);
  } else {
    if (!ParseNumber(&v, &r.first) || v.empty() || v.front() != '-') return true;
    v.remove_prefix(1);
    if (!ParseNumber(&v, &r.last) || r.last < r.first) return true;
    r.has_range = true;
  }
  if (!v.empty() && v.front() == '/') {
    v.remove_prefix(1);
    if (ParseNumber(&v, &r.total)) r.has_total = true;
  }
  *out = r;
  return true;
}

bool HeaderValue(std::string_view line, std::string_view name, std::string_view* value) {
  if (line.size() <= name.size() || line[name.size()] != ':' || !StartsWithNoCase(line, name)) {
    return false;
  }
  *value = Trim(line.substr(name.size() + 1));
  return true;
}

bool IsWeakEtag(std::string_view etag) { return StartsWithNoCase(etag, "W/"); }

}  // namespace upager::internal::http
