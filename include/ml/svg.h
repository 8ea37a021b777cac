/* Self-contained SVG line plots: axes with ticks and labels, a title, polylines (plain,
 * dashed, stepped, with markers), shaded bands and a legend. The file needs no fonts,
 * scripts or style sheets from elsewhere, so a browser opens it as it is.
 *
 * Build a plot with ml_svg_new, add series (their data are copied), then ml_svg_write.
 * Axes span the data, widened to whole tick steps, unless ml_svg_xlim / ml_svg_ylim fix
 * them; what falls outside is clipped. Non-finite points break a line (a gap). Points
 * closer than half a pixel to the last one drawn are dropped, so a curve of a million
 * points stays a small file. Text is escaped for XML. */
#ifndef ML_SVG_H
#define ML_SVG_H

#include <stddef.h>
#include <stdio.h>
#include "ml/err.h"

/* Series flags. */
#define ML_SVG_DASHED  1  /* dashed stroke */
#define ML_SVG_MARKERS 2  /* a dot at each point */
#define ML_SVG_STEP    4  /* hold y until the next x (matplotlib's steps-post) */
#define ML_SVG_REF     8  /* a grey reference (a diagonal, a baseline): uses no palette colour */
#define ML_SVG_NOLINE  16 /* markers only */
/* Palette colour i (0..9) instead of the next unused one, e.g. a band and its line. */
#define ML_SVG_COLOR(i) ((((i) % 10) + 1) << 8)

enum ml_svg_corner {
	ML_SVG_TOP_LEFT,
	ML_SVG_TOP_RIGHT,
	ML_SVG_BOTTOM_LEFT,
	ML_SVG_BOTTOM_RIGHT,
	ML_SVG_NO_LEGEND
};

struct ml_svg;

/* A plot with these texts (any may be NULL). NULL when out of memory. */
ML_API struct ml_svg *ml_svg_new(const char *title, const char *xlabel, const char *ylabel);
ML_API void ml_svg_free(struct ml_svg *p);
/* Size in pixels; the default is 640 x 480. */
ML_API void ml_svg_size(struct ml_svg *p, int width, int height);
/* Fix an axis range (lo < hi). */
ML_API void ml_svg_xlim(struct ml_svg *p, double lo, double hi);
ML_API void ml_svg_ylim(struct ml_svg *p, double lo, double hi);
/* Where the legend goes (inside the plot area); the default is the top right. Series
 * without a label are not listed. */
ML_API void ml_svg_legend(struct ml_svg *p, enum ml_svg_corner where);
/* Tick labels of the x axis through fn (dates, say): fn writes at most size bytes with
 * a NUL into buf. The default writes the number with up to 10 significant digits. */
typedef void (*ml_svg_fmt_fn)(char *buf, size_t size, double v, void *ud);
ML_API void ml_svg_xfmt(struct ml_svg *p, ml_svg_fmt_fn fn, void *ud);

/* Add a line through n points (x[i], y[i]), with ML_SVG_* flags and a legend label (or
 * NULL). Returns 0 or ML_E_NOMEM. */
ML_API int ml_svg_line(struct ml_svg *p, const double *x, const double *y, size_t n,
		       const char *label, int flags, struct ml_err *e);
/* Add a band: the area between lo[i] and hi[i] over x[i], filled lightly. Flags: only
 * ML_SVG_COLOR. */
ML_API int ml_svg_band(struct ml_svg *p, const double *x, const double *lo, const double *hi,
		       size_t n, const char *label, int flags, struct ml_err *e);

/* Write the SVG document to fp. Returns 0, or ML_E_IO when fp reports an error. */
ML_API int ml_svg_write(const struct ml_svg *p, FILE *fp, struct ml_err *e);

#endif
