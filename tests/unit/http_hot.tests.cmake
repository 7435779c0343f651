# The PoP's read path formats numbers and reads its query in place: the same text as snprintf
# and as evhttp's query list (node/http_text.h, implemented in node/http.c).
ekv_add_unit_test(http_hot SOURCES unit/http_hot_test.c LIBS ekv_node)
