/* What the table reader's serial and parallel paths share; private to libml. */
#ifndef ML_LIB_TABLE_INT_H
#define ML_LIB_TABLE_INT_H

#include <stddef.h>
#include "ml/frame.h"
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

/* Read a plain (uncompressed, regular) text file into f in parallel windows. Returns 0 when
 * done, 1 when the file is not one it reads or it met anything unusual (an error, a column
 * whose type changes late): the caller then reads it serially, which reports errors with
 * their exact place. f is left fresh in that case. */
int ml_frame_read_parallel(struct ml_frame *f, const char *path, const struct ml_read_opts *o,
			   struct ml_err *e);

#endif
