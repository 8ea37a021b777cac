/* What the table reader's serial and parallel paths share; private to libml. */
#ifndef ML_LIB_TABLE_INT_H
#define ML_LIB_TABLE_INT_H

#include <math.h>
#include <stddef.h>
#include "ml/frame.h"
#include "ml/num.h"
#include "ml/table.h"

/* An integer written with a leading zero ("007", "-01"): an identifier, not a number.
 * Inline: both readers ask it of every number they type. */
static inline int ml_text_leading_zero(const char *s, size_t len)
{
	size_t i = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	return i + 1 < len && s[i] == '0' && s[i + 1] >= '0' && s[i + 1] <= '9';
}

/* Text typing, the same in every reader: while the rows read ahead are counted, a value is
 * a number when it parses as a finite decimal number without a leading zero (or with one,
 * in a column forced numeric); present values that are not are counted as text, the first
 * one's row and line kept for messages. */
struct ml_typecount {
	size_t nnum, ntxt;
	size_t first_row; /* the first text value's row among those counted */
	long first_line;
};

static inline void ml_typecount_init(struct ml_typecount *c)
{
	c->nnum = c->ntxt = 0;
	c->first_row = (size_t)-1;
	c->first_line = 0;
}

static inline int ml_text_number(const char *s, size_t len, int forced, double *v)
{
	return ml_parse_double(s, len, v) == 0 && isfinite(*v) &&
	       (forced || !ml_text_leading_zero(s, len));
}

static inline void ml_typecount_add(struct ml_typecount *c, int num, size_t row, long line)
{
	if (num) {
		c->nnum++;
	} else if (c->ntxt++ == 0) {
		c->first_row = row;
		c->first_line = line;
	}
}

/* The type the counts give: ML_NUM when every present value was a number (or none was
 * present), ML_CAT when text is at least half of them, and -1 for numbers but for a few
 * values: a stray token ('n/a', 'inf', '1e309'), which is an error rather than a reason to
 * read the column as text. */
static inline int ml_typecount_type(const struct ml_typecount *c)
{
	if (c->ntxt == 0)
		return ML_NUM;
	return c->nnum > c->ntxt ? -1 : ML_CAT;
}

/* Read a plain (uncompressed, regular) text file into f in parallel windows. Returns 0 when
 * done, 1 when the file is not one it reads or it met anything unusual (an error, a column
 * whose type changes late): the caller then reads it serially, which reports errors with
 * their exact place. f is left fresh in that case. *warned is set when the header's
 * warnings went to o->log already (the serial reader then need not repeat them). */
int ml_frame_read_parallel(struct ml_frame *f, const char *path, const struct ml_read_opts *o,
			   struct ml_err *e, int *warned);

#endif
