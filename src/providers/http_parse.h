// The bits of HTTP/1.x response headers HttpProvider reads: status lines, Content-Range
// and the object's validators (ETag, Last-Modified). Plain text parsing, no libcurl.
#ifndef UPAGER_SRC_PROVIDERS_HTTP_PARSE_H_
#define UPAGER_SRC_PROVIDERS_HTTP_PARSE_H_

#include <cstdint>
#include <string_view>

namespace upager::internal::http {

bool StartsWithNoCase(std::string_view text, std::string_view prefix);
// `text` without leading and trailing white space.
std::string_view Trim(std::string_view text);
// Parses a decimal number at the start of `text`, advancing past it.
bool ParseNumber(std::string_view* text, uint64_t* out);
// "HTTP/1.1 206 Partial Content" -> 206; 0 if `line` is not a status line.
long StatusLineCode(std::string_view line);

// What a Content-Range header says: "bytes FIRST-LAST/TOTAL" (TOTAL may be "*"), or
// "bytes */TOTAL" for a 416.
struct ContentRange {
  bool has_range = false;
  uint64_t first = 0;
  uint64_t last = 0;
  bool has_total = false;
  uint64_t total = 0;
};

// The value of a "Content-Range:" header line, or false if `line` is not one.
bool ParseContentRange(std::string_view line, ContentRange* out);

// The trimmed value of `line` if it is a header named `name` (no colon, any case), e.g.
// HeaderValue("ETag: \"abc\"\r\n", "etag", &v) sets v to "\"abc\"".
bool HeaderValue(std::string_view line, std::string_view name, std::string_view* value);

// Whether an entity tag is weak (W/"..."): If-Match never matches a weak tag.
bool IsWeakEtag(std::string_view etag);

}  // namespace upager::internal::http

#endif  // UPAGER_SRC_PROVIDERS_HTTP_PARSE_H_
