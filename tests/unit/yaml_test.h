/* yaml_test: what the tests of the YAML loaders (topology_test.c, experiment_test.c) share:
 * the check that a file is refused with "t.yaml:LINE: problem", and the project's own files
 * found from the test's source path and walked, so the shipped examples are loaded too. */
#ifndef EKV_YAML_TEST_H
#define EKV_YAML_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "ekv_test.h"

/* Parsing text with parse (a `type *parse(text, err, errlen)` that names the file t.yaml)
 * must fail with "t.yaml:LINE: " followed by a problem containing needle; what it wrongly
 * accepted is freed with destroy(&p) before the test fails. */
#define EXPECT_PARSE_ERROR(type, parse, destroy, text, line, needle)                               \
    do {                                                                                           \
        char err_[512] = "", prefix_[32];                                                          \
        type *p_ = parse((text), err_, sizeof err_);                                               \
        if (p_) {                                                                                  \
            destroy(&p_);                                                                          \
            EKV_FAIL_("accepted, expected an error on line %d:\n%s", (line), (text));              \
        }                                                                                          \
        snprintf(prefix_, sizeof prefix_, "t.yaml:%d: ", (line));                                  \
        if (strncmp(err_, prefix_, strlen(prefix_)) != 0 || !strstr(err_, (needle)))               \
            EKV_FAIL_("error \"%s\", expected \"%s...%s...\"", err_, prefix_, (needle));           \
    } while (0)

/* The project's folder followed by rel, written in buf: derived from file, a test's __FILE__,
 * which CMake passes as an absolute path ending in suffix ("/tests/unit/x_test.c"). NULL
 * when file is not such a path or buf is too short. */
static inline const char *ekv_test_project_path(const char *file, const char *suffix,
                                                const char *rel, char *buf, size_t size)
{
    size_t n = strlen(file), s = strlen(suffix);
    if (file[0] != '/' || n <= s || n - s + strlen(rel) + 1 >= size ||
        strcmp(file + n - s, suffix) != 0)
        return NULL;
    snprintf(buf, size, "%.*s%s", (int)(n - s), file, rel);
    return buf;
}

/* Calls each(name, arg) for every file of dir whose name ends in ".yaml", and returns how many
 * there were; the test fails when dir cannot be read. */
static inline int ekv_test_each_yaml(const char *dir, void (*each)(const char *name, void *arg),
                                     void *arg)
{
    DIR *d = opendir(dir);
    if (!d)
        EKV_FAIL_("cannot open %s", dir);
    int n = 0;
    for (struct dirent *de; (de = readdir(d));) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
            continue;
        each(de->d_name, arg);
        n++;
    }
    closedir(d);
    return n;
}

#endif
