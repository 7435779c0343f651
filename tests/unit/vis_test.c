/* vis_test: unit tests of a PoP's first-visibility records (node/vis). */
#include <stdint.h>

#include "ekv_test.h"
#include "vis.h"

#define T INT64_C(1700000000000000)

static void test_record_find_once(void)
{
    CHECK(ekv_vis_new(0) == NULL);
    CHECK(ekv_vis_new(6) == NULL); /* not a power of two */
    ekv_vis_t *v = ekv_vis_new(8);
    CHECK(ekv_vis_find(v, 1) == NULL);
    const ekv_vis_rec_t *r = ekv_vis_record(v, 1, T, T + 1500);
    CHECK(r != NULL);
    CHECK_EQ(r->seq, 1);
    CHECK_EQ(r->visible_us - r->commit_us, 1500);
    CHECK(ekv_vis_record(v, 1, T, T + 9999) == NULL); /* the first visibility stays */
    CHECK_EQ(ekv_vis_find(v, 1)->visible_us, T + 1500);
    CHECK_EQ(ekv_vis_next(v), 1);
    CHECK_EQ(ekv_vis_delays(v)->count, 1);
    CHECK_EQ(ekv_vis_delays(v)->max, 1500);
    ekv_vis_destroy(&v);
    ekv_vis_destroy(&v);
}

/* Past its capacity the ring keeps the newest records; insertion indexes say what is gone. */
static void test_ring_wraps(void)
{
    ekv_vis_t *v = ekv_vis_new(4);
    for (uint64_t s = 1; s <= 10; s++)
        CHECK(ekv_vis_record(v, s, T, T + (int64_t)s) != NULL);
    CHECK_EQ(ekv_vis_next(v), 10);
    CHECK_EQ(ekv_vis_oldest(v), 6);
    CHECK(ekv_vis_at(v, 5) == NULL);
    CHECK(ekv_vis_at(v, 10) == NULL);
    for (uint64_t i = 6; i < 10; i++)
        CHECK_EQ(ekv_vis_at(v, i)->seq, i + 1); /* index i holds the (i+1)th record */
    CHECK(ekv_vis_find(v, 6) == NULL);          /* overwritten */
    CHECK_EQ(ekv_vis_find(v, 7)->visible_us, T + 7);
    CHECK_EQ(ekv_vis_delays(v)->count, 10); /* the histogram keeps every delay */
    ekv_vis_destroy(&v);
}

/* Two sequences with the same remainder: the newer owns the index slot; the older reads as
 * absent even while its record is still in the ring (a duplicate at worst, never wrong). */
static void test_index_collision(void)
{
    ekv_vis_t *v = ekv_vis_new(8);
    ekv_vis_record(v, 3, T, T + 3);
    ekv_vis_record(v, 11, T, T + 11);
    CHECK(ekv_vis_find(v, 3) == NULL);
    CHECK_EQ(ekv_vis_find(v, 11)->visible_us, T + 11);
    CHECK_EQ(ekv_vis_at(v, 0)->seq, 3); /* still listed for collectors */
    ekv_vis_destroy(&v);
}

int main(void)
{
    EKV_TEST_RUN(test_record_find_once);
    EKV_TEST_RUN(test_ring_wraps);
    EKV_TEST_RUN(test_index_collision);
    EKV_TEST_DONE();
}
