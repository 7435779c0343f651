# What the PoP lets into a reply: reason phrases, headers, metadata and JSON text of any stored
# bytes, and the request options it parses (node/http_text.h, implemented in node/http.c).
ekv_add_unit_test(http_text SOURCES unit/http_text_test.c LIBS ekv_node)
