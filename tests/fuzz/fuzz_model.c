/* Fuzzing the ml-model(5) loader and every kind's reading of its content: a container is
 * loaded from memory, serialised and loaded again (the same bytes come out), its sections
 * tried as nested members, and then taken as an artefact: checked, described, its tables
 * listed and made, its input columns read, and a scorer bound to rows of those columns and
 * applied (so the models of every algorithm, the feature pipelines with every step and the
 * forecasters are all read). A forecaster forecasts too.
 *
 * Input: one byte of options, then the container.
 *	bit 0: 0 the container's bytes as they are, loaded once so and once with its CRCs
 *	       and whole-file digest made right (so that mutations reach the parsing); 1 the
 *	       container in pieces, assembled by this harness with right lengths and checks:
 *	       the metadata's JSON text, then for each section the separator "\xff\xfeS0",
 *	       its name, a newline and its bytes up to the next separator; a section whose
 *	       bytes start with "\xff\xfeN" is itself a container in pieces (separator
 *	       "\xff\xfeS1"), one level deep.
 *	bits 1-7: the scorer's options: margins, no probabilities, leaf indices,
 *	       contributions, the standard deviation, intervals at 80 and 95%, extra columns
 *	       passed through.
 * The scorers are bound to rows made for the artefact's input columns, and to a small fixed
 * frame. */
#include <zlib.h>

#include "fuzz.h"

#define SEP_LEN 4
static const char sep[2][SEP_LEN + 1] = {"\xff\xfeS0", "\xff\xfeS1"};
static const char nested[] = "\xff\xfeN";

/* island (categorical), x and bill_length_mm, five rows */
static struct ml_frame fixed;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ml_schema s;

	(void)argc;
	(void)argv;
	ml_blas_rest();
	ml_schema_init(&s);
	if (ml_schema_add(&s, "island", ML_CAT) < 0 || ml_schema_add(&s, "x", ML_NUM) < 0 ||
	    ml_schema_add(&s, "bill_length_mm", ML_NUM) < 0 ||
	    ml_dict_intern(&s.cols[0].dict, "Biscoe", 6) < 0 ||
	    ml_dict_intern(&s.cols[0].dict, "Dream", 5) < 0)
		fz_fail("out of memory");
	fz_frame_like(&fixed, &s, 5);
	ml_schema_release(&s);
	return 0;
}

/* Bytes. */

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n)
			cap *= 2;
		if (!(b->p = realloc(b->p, cap)))
			fz_fail("out of memory");
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put32(struct buf *b, uint32_t v)
{
	uint8_t q[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	put(b, q, 4);
}

static void put64(struct buf *b, uint64_t v)
{
	put32(b, (uint32_t)v);
	put32(b, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void set32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void set64(uint8_t *p, uint64_t v)
{
	set32(p, (uint32_t)v);
	set32(p + 4, (uint32_t)(v >> 32));
}

static const uint8_t *find(const uint8_t *p, const uint8_t *end, const char *what, size_t n)
{
	for (; (size_t)(end - p) >= n; p++)
		if (memcmp(p, what, n) == 0)
			return p;
	return end;
}

/* The trailer of ml-model(5): CRC-32 and Adler-32 of what precedes it, and the length. */
static void trailer(struct buf *b)
{
	uint32_t c = (uint32_t)crc32(0, b->p, (uInt)b->n), a = (uint32_t)adler32(1, b->p, (uInt)b->n);

	put32(b, c);
	put32(b, a);
	put64(b, b->n + 8);
}

/* A container from pieces (see the top), assembled into out. */
static void assemble(const uint8_t *p, const uint8_t *end, int level, struct buf *out)
{
	const uint8_t *s = find(p, end, sep[level], SEP_LEN), *name, *nl, *next;
	struct buf sections = {0}, child = {0};
	uint32_t nsec = 0;

	put(out, "\x89MLM\r\n\x1a\n", 8);
	put32(out, 1);
	put32(out, 0);
	put32(out, (uint32_t)(s - p));
	put(out, p, (size_t)(s - p));
	for (; s < end; s = next) {
		const uint8_t *data;
		size_t nlen, dlen;
		name = s + SEP_LEN;
		next = find(name, end, sep[level], SEP_LEN);
		nl = memchr(name, '\n', (size_t)(next - name));
		if (!nl)
			nl = next;
		nlen = (size_t)(nl - name) > 255 ? 255 : (size_t)(nl - name);
		data = nl < next ? nl + 1 : next;
		dlen = (size_t)(next - data);
		if (level == 0 && dlen >= 3 && memcmp(data, nested, 3) == 0) {
			child.n = 0;
			assemble(data + 3, next, 1, &child);
			data = child.p;
			dlen = child.n;
		}
		put(&sections, (uint8_t[]){(uint8_t)nlen}, 1);
		put(&sections, name, nlen);
		put(&sections, (uint8_t[]){0}, 1);
		put64(&sections, dlen);
		put64(&sections, dlen);
		put32(&sections, (uint32_t)crc32(0, data, (uInt)dlen));
		put(&sections, data, dlen);
		nsec++;
	}
	put32(out, nsec);
	put(out, sections.p, sections.n);
	trailer(out);
	free(sections.p);
	free(child.p);
}

/* A container's bytes with each raw section's CRC and the trailer made right. */
static void fix(uint8_t *p, size_t n)
{
	size_t at = 16, k;
	uint32_t nsec, i;

	if (n < 16 + 4 + 4 + 16)
		return;
	if (get32(p + 16) <= n - 20) {
		at = 20 + get32(p + 16);
		if (n - at >= 4) {
			nsec = get32(p + at);
			at += 4;
			for (i = 0; i < nsec; i++) {
				uint64_t stored;
				if (n - at < 1 || n - at - 1 < (size_t)p[at] + 21)
					break;
				k = at + 1 + p[at]; /* the codec */
				stored = get64(p + k + 9);
				if (stored > n - k - 21)
					break;
				if (p[k] == 0)
					set32(p + k + 17, (uint32_t)crc32(0, p + k + 21, (uInt)stored));
				at = k + 21 + (size_t)stored;
			}
		}
	}
	set32(p + n - 16, (uint32_t)crc32(0, p, (uInt)(n - 16)));
	set32(p + n - 12, (uint32_t)adler32(1, p, (uInt)(n - 16)));
	set64(p + n - 8, n);
}

/* The container. */

static void container(const struct ml_model *m, int depth);

/* Serialised and loaded again: the same model, and the same bytes once more. */
static void round_trip(const struct ml_model *m)
{
	unsigned char *b1, *b2;
	size_t n1, n2;
	struct ml_model *c;
	struct ml_err e;
	char *j1, *j2;
	int i;

	if (ml_model_to_mem(m, &b1, &n1, &e) != 0)
		fz_fail("a loaded model does not serialise: %s", e.msg);
	if (!(c = ml_model_from_mem(b1, n1, "copy", &e)))
		fz_fail("a serialised model does not load: %s", e.msg);
	j1 = ml_model_meta_json(m);
	j2 = ml_model_meta_json(c);
	if (!j1 || !j2 || strcmp(j1, j2) != 0)
		fz_fail("the metadata changes through a copy");
	if (ml_model_nsections(c) != ml_model_nsections(m))
		fz_fail("the sections change through a copy");
	for (i = 0; i < ml_model_nsections(m); i++) {
		const void *d1, *d2;
		size_t l1, l2;
		const char *nm = ml_model_section_name(m, i);
		if (ml_model_get(m, nm, &d1, &l1, NULL) != 0 || ml_model_get(c, nm, &d2, &l2, NULL) != 0 ||
		    l1 != l2 || (l1 && memcmp(d1, d2, l1) != 0))
			fz_fail("section %d changes through a copy", i + 1);
	}
	if (ml_model_to_mem(c, &b2, &n2, &e) != 0 || n1 != n2 || memcmp(b1, b2, n1) != 0)
		fz_fail("a copy serialises to other bytes");
	free(j1);
	free(j2);
	free(b1);
	free(b2);
	ml_model_free(c);
}

static void container(const struct ml_model *m, int depth)
{
	char digest[ML_MODEL_DIGEST_HEX + 1], *meta;
	struct ml_err e;
	int i;

	if (!ml_model_kind(m) || !ml_model_algorithm(m))
		fz_fail("a loaded model has no kind or algorithm");
	if (ml_model_digest(m, digest, &e) != 0 || strlen(digest) != ML_MODEL_DIGEST_HEX)
		fz_fail("a loaded model has no digest");
	if ((meta = ml_model_meta_json(m)) == NULL)
		fz_fail("a loaded model has no metadata");
	free(meta);
	free(ml_model_meta_get(m, "kind"));
	free(ml_model_meta_get(m, "features"));
	round_trip(m);
	if (depth >= 2)
		return;
	for (i = 0; i < ml_model_nsections(m); i++) {
		struct ml_model *c = ml_model_get_member(m, ml_model_section_name(m, i), &e);
		if (c) {
			container(c, depth + 1);
			ml_model_free(c);
		} else if (e.code >= 0) {
			fz_fail("ml_model_get_member failed without an error code");
		}
	}
}

/* The artefact. */

static void apply(const struct ml_artefact *a, const struct ml_apply_opts *o,
		  const struct ml_frame *in)
{
	const struct ml_schema *out;
	const struct ml_block *ob;
	struct ml_scorer *s;
	struct ml_err e;
	size_t got = 0, cut = in->rows.nrow / 2;
	int rc = 0, k;

	if (!(s = ml_scorer_new(a, o, &e)))
		return;
	if (ml_scorer_bind(s, &in->schema, &out, &e) == 0) {
		for (k = 0; k < 2; k++) {
			rc = ml_scorer_apply(s, &in->rows, k ? cut : 0, k ? in->rows.nrow : cut, &ob, &e);
			if (rc < 0)
				break;
			if (ob->schema != out || ob->ncol != out->ncol)
				fz_fail("a scorer's block is not of its output schema");
			fz_check_codes(ob, "scorer output");
			got += ob->nrow;
		}
		if (rc == 0 && (rc = ml_scorer_finish(s, &ob, &e)) == 0 && ob->nrow) {
			if (ob->schema != out || ob->ncol != out->ncol)
				fz_fail("a scorer's last block is not of its output schema");
			fz_check_codes(ob, "scorer output");
			got += ob->nrow;
		}
		if (rc >= 0 && got != in->rows.nrow)
			fz_fail("a scorer gave %zu rows for %zu", got, in->rows.nrow);
	}
	ml_scorer_free(s);
}

static void forecast(const struct ml_model *m)
{
	static const double levels[2] = {80, 95};
	struct ml_forecaster *f;
	struct ml_err e;
	double mean[12], lo[24], hi[24], *fitted;

	if (!(f = ml_fc_from_model(m, &e)))
		return;
	if (ml_fc_forecast(f, 12, levels, 2, mean, lo, hi, &e) != 0)
		fz_fail("a loaded forecaster does not forecast: %s", e.msg);
	if (!(fitted = malloc((ml_fc_nobs(f) + 1) * sizeof(double))))
		fz_fail("out of memory");
	if (ml_fc_fitted(f, fitted, &e) != 0)
		fz_fail("a loaded forecaster has no fitted values: %s", e.msg);
	(void)ml_fc_sigma2(f);
	free(fitted);
	ml_fc_free(f);
}

static void artefact(struct ml_model *m, unsigned opts)
{
	struct ml_artefact *a;
	struct ml_apply_opts o;
	struct ml_schema s;
	struct ml_frame in, fr;
	struct ml_err e;
	const char *const *t;
	char *d;
	int rc;

	if (!(a = ml_artefact_from_model(m, "fuzz.mlm", &e)))
		fz_fail("ml_artefact_from_model failed on a loaded container: %s", e.msg);
	rc = ml_artefact_check(a, &e);
	if (rc > 0 || (rc < 0 && e.code != rc))
		fz_fail("ml_artefact_check returned %d with code %d", rc, e.code);
	if (!(d = ml_artefact_describe(a, &e)))
		fz_fail("ml_artefact_describe failed: %s", e.msg);
	free(d);
	for (t = ml_artefact_tables(a); *t; t++) {
		ml_frame_init(&fr);
		if (ml_artefact_table(a, *t, &fr, &e) == 0)
			fz_check_codes(&fr.rows, *t);
		ml_frame_release(&fr);
	}
	ml_frame_init(&fr);
	if (ml_artefact_table(a, "no such table", &fr, &e) == 0)
		fz_fail("a table that does not exist was made");
	ml_frame_release(&fr);
	if (!strcmp(ml_artefact_kind(a), "forecaster"))
		forecast(ml_artefact_model(a));
	ml_schema_init(&s);
	if (ml_artefact_input_schema(a, &s, &e) == 0 &&
	    (ml_artefact_flags(a) & (ML_ARTEFACT_TRANSFORM | ML_ARTEFACT_FINAL))) {
		fz_frame_like(&in, &s, 7);
		ml_apply_opts_init(&o);
		apply(a, &o, &in);
		o.margin = opts >> 1 & 1;
		o.proba = !(opts >> 2 & 1);
		o.leaf = opts >> 3 & 1;
		o.contrib = opts >> 4 & 1;
		o.std = opts >> 5 & 1;
		if (opts >> 6 & 1) {
			o.nlevel = 2;
			o.level[0] = 80;
			o.level[1] = 95;
		}
		o.extra = opts >> 7 & 1;
		apply(a, &o, &in);
		ml_frame_release(&in);
		/* and a small fixed frame, whose columns the artefact may lack */
		apply(a, &o, &fixed);
	}
	ml_schema_release(&s);
	ml_artefact_free(a);
}

static void load(const uint8_t *p, size_t n, unsigned opts)
{
	struct ml_model *m;
	struct ml_err e;

	ml_err_init(&e);
	if (!(m = ml_model_from_mem(p, n, "fuzz.mlm", &e))) {
		if (e.code != ML_E_DATA && e.code != ML_E_NOMEM)
			fz_fail("ml_model_from_mem failed with code %d: %s", e.code, e.msg);
		return;
	}
	container(m, 0);
	artefact(m, opts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	unsigned opts = fz_byte(&in);
	struct buf b = {0};

	if (opts & 1) {
		assemble(in.p, in.p + in.n, 0, &b);
		load(b.p, b.n, opts);
	} else {
		load(in.p, in.n, opts);
		put(&b, in.p, in.n);
		fix(b.p, b.n);
		if (b.n && memcmp(b.p, in.p, in.n) != 0)
			load(b.p, b.n, opts);
	}
	free(b.p);
	return 0;
}
