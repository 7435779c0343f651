/* file_test: files the daemons and the CLI create never follow a planted symbolic link
 * (common/ekv_file, common/ekv_daemon).
 *
 * Each case plants a link to a "victim" file at a name the code is about to create (the old
 * temporary name of an atomic write, the target of an atomic or streamed write, a daemon's log)
 * and checks that the victim keeps its content, that the intended file gets the data, and that
 * no temporary file is left behind. The daemon case runs ekv_daemon_detach in a forked child,
 * as the launcher and the zygote do. Everything lives in a private mkdtemp folder, removed at
 * the end. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ekv_daemon.h"
#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_mem.h"
#include "ekv_test.h"

static char g_dir[64];

static const char *at(const char *name)
{
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", g_dir, name);
    return p;
}

/* The whole content of path ("" when missing). */
static char *slurp(const char *path)
{
    static char buf[4096];
    char *text;
    size_t len;
    buf[0] = '\0';
    if (ekv_file_read(path, sizeof buf - 1, &text, &len) == EKV_OK) {
        memcpy(buf, text, len + 1);
        free(text);
    }
    return buf;
}

static void plant(const char *link)
{
    FILE *f = fopen(at("victim"), "w");
    CHECK(f != NULL);
    fputs("precious\n", f);
    fclose(f);
    unlink(link);
    CHECK_EQ(symlink(at("victim"), link), 0);
}

static int is_link(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

/* Entries of the folder whose names hold ".tmp.". */
static int temporaries(void)
{
    int n = 0;
    DIR *d = opendir(g_dir);
    for (struct dirent *e; d && (e = readdir(d));)
        n += strstr(e->d_name, ".tmp.") != NULL;
    if (d)
        closedir(d);
    return n;
}

/* A link planted at the temporary name the write used to take (PATH.tmp.PID) is not written
 * through; nor is one planted at the target itself, which the rename replaces. */
static void test_atomic_write_ignores_links(void)
{
    char tmpname[300];
    snprintf(tmpname, sizeof tmpname, "%s.tmp.%d", at("state.json"), (int)getpid());
    plant(tmpname);
    CHECK_EQ(ekv_file_write_atomic(at("state.json"), "new\n", 4), EKV_OK);
    CHECK_STR(slurp(at("victim")), "precious\n");
    CHECK_STR(slurp(at("state.json")), "new\n");
    unlink(tmpname);

    plant(at("state.json"));
    CHECK_EQ(ekv_file_write_atomic(at("state.json"), "newer\n", 6), EKV_OK);
    CHECK_STR(slurp(at("victim")), "precious\n");
    CHECK(!is_link(at("state.json")));
    CHECK_STR(slurp(at("state.json")), "newer\n");
    CHECK_EQ(temporaries(), 0);
}

/* A streamed output (report, CSV) replaces a link planted at its name; until it is closed the
 * old content stays in place; a folder that does not exist is an error, not a crash. */
static void test_streamed_output_replaces_links(void)
{
    char tmp[EKV_FILE_TMP_MAX];
    plant(at("report.html"));
    FILE *f = ekv_file_out_open(at("report.html"), tmp);
    CHECK(f != NULL);
    fputs("<html>report</html>\n", f);
    CHECK(is_link(at("report.html")));
    CHECK_EQ(ekv_file_out_close(f, tmp, at("report.html")), EKV_OK);
    CHECK_STR(slurp(at("victim")), "precious\n");
    CHECK(!is_link(at("report.html")));
    CHECK_STR(slurp(at("report.html")), "<html>report</html>\n");
    CHECK_EQ(temporaries(), 0);
    CHECK(ekv_file_out_open(at("missing/report.html"), tmp) == NULL);
}

/* Runs ekv_daemon_detach(log) in a child that then prints a line; returns its exit status. */
static int detached_child(const char *log)
{
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        ekv_daemon_detach(log, -1, "file_test");
        printf("daemon output\n");
        fflush(stdout);
        _exit(getsid(0) == getpid() ? 0 : 3);
    }
    int status = 0;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A daemon's output is appended to its log, but never through a link planted at the log's
 * name: then it goes nowhere and the daemon still runs (in its own session). */
static void test_daemon_log_ignores_links(void)
{
    unlink(at("pop.log"));
    CHECK_EQ(detached_child(at("pop.log")), 0);
    CHECK_EQ(detached_child(at("pop.log")), 0);
    CHECK_STR(slurp(at("pop.log")), "daemon output\ndaemon output\n");

    plant(at("pop.log"));
    CHECK_EQ(detached_child(at("pop.log")), 0);
    CHECK_STR(slurp(at("victim")), "precious\n");
    CHECK(is_link(at("pop.log")));
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/ekv-file-test.XXXXXX");
    CHECK(mkdtemp(g_dir) != NULL);
    EKV_TEST_RUN(test_atomic_write_ignores_links);
    EKV_TEST_RUN(test_streamed_output_replaces_links);
    EKV_TEST_RUN(test_daemon_log_ignores_links);
    const char *names[] = {"victim", "state.json", "report.html", "pop.log"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        unlink(at(names[i]));
    CHECK_EQ(rmdir(g_dir), 0);
    EKV_TEST_DONE();
}
