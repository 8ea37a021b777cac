/* A small SVG writer for line plots with axes, ticks, bands and a legend. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/num.h"
#include "ml/svg.h"

static const char *const palette[10] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
					"#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define REF_COLOR "#888888"

struct series {
	int band;
	int flags;
	int color; /* palette index, -1 for a reference line */
	char *label;
	size_t n;
	double *x, *y, *y2; /* y2: the band's upper edge */
};

struct ml_svg {
	char *title, *xlabel, *ylabel;
	int width, height;
	int xfixed, yfixed;
	double x0, x1, y0, y1;
	enum ml_svg_corner legend;
	ml_svg_fmt_fn xfmt;
	void *xfmt_ud;
	struct series *s;
	int ns, cap;
	int next_color;
};

static char *dupstr(const char *s)
{
	char *d;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

struct ml_svg *ml_svg_new(const char *title, const char *xlabel, const char *ylabel)
{
	struct ml_svg *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->width = 640;
	p->height = 480;
	p->legend = ML_SVG_TOP_RIGHT;
	p->title = dupstr(title);
	p->xlabel = dupstr(xlabel);
	p->ylabel = dupstr(ylabel);
	if ((title && !p->title) || (xlabel && !p->xlabel) || (ylabel && !p->ylabel)) {
		ml_svg_free(p);
		return NULL;
	}
	return p;
}

void ml_svg_free(struct ml_svg *p)
{
	int i;

	if (!p)
		return;
	for (i = 0; i < p->ns; i++) {
		free(p->s[i].label);
		free(p->s[i].x);
		free(p->s[i].y);
		free(p->s[i].y2);
	}
	free(p->s);
	free(p->title);
	free(p->xlabel);
	free(p->ylabel);
	free(p);
}

void ml_svg_size(struct ml_svg *p, int width, int height)
{
	if (width >= 200 && height >= 150) {
		p->width = width;
		p->height = height;
	}
}

void ml_svg_xlim(struct ml_svg *p, double lo, double hi)
{
	if (lo < hi) {
		p->xfixed = 1;
		p->x0 = lo;
		p->x1 = hi;
	}
}

void ml_svg_ylim(struct ml_svg *p, double lo, double hi)
{
	if (lo < hi) {
		p->yfixed = 1;
		p->y0 = lo;
		p->y1 = hi;
	}
}

void ml_svg_legend(struct ml_svg *p, enum ml_svg_corner where)
{
	p->legend = where;
}

void ml_svg_xfmt(struct ml_svg *p, ml_svg_fmt_fn fn, void *ud)
{
	p->xfmt = fn;
	p->xfmt_ud = ud;
}

static double *dupd(const double *v, size_t n)
{
	double *d = malloc((n ? n : 1) * sizeof(*d));

	if (d && n)
		memcpy(d, v, n * sizeof(*d));
	return d;
}

static int add(struct ml_svg *p, const double *x, const double *y, const double *y2, size_t n,
	       const char *label, int flags, int band, struct ml_err *e)
{
	struct series *s;

	if (p->ns == p->cap) {
		int cap = p->cap ? 2 * p->cap : 8;
		struct series *ns = realloc(p->s, (size_t)cap * sizeof(*ns));
		if (!ns)
			return ml_err_nomem(e);
		p->s = ns;
		p->cap = cap;
	}
	s = &p->s[p->ns];
	memset(s, 0, sizeof(*s));
	s->band = band;
	s->flags = flags;
	s->n = n;
	s->x = dupd(x, n);
	s->y = dupd(y, n);
	s->y2 = y2 ? dupd(y2, n) : NULL;
	s->label = dupstr(label);
	if (!s->x || !s->y || (y2 && !s->y2) || (label && !s->label)) {
		free(s->x);
		free(s->y);
		free(s->y2);
		free(s->label);
		return ml_err_nomem(e);
	}
	if ((flags & ML_SVG_REF) && !band)
		s->color = -1;
	else if (flags >> 8) {
		s->color = ((flags >> 8) - 1) % 10;
		/* later automatic colours do not repeat it */
		if (p->next_color <= s->color)
			p->next_color = s->color + 1;
	} else
		s->color = p->next_color++ % 10;
	p->ns++;
	return 0;
}

int ml_svg_line(struct ml_svg *p, const double *x, const double *y, size_t n, const char *label,
		int flags, struct ml_err *e)
{
	return add(p, x, y, NULL, n, label, flags, 0, e);
}

int ml_svg_band(struct ml_svg *p, const double *x, const double *lo, const double *hi, size_t n,
		const char *label, int flags, struct ml_err *e)
{
	return add(p, x, lo, hi, n, label, flags & ~0xff, 1, e);
}

/* --- Layout ------------------------------------------------------------------------------- */

static double nice_step(double range)
{
	double raw = range / 6, mag, f;

	if (!(raw > 0) || !isfinite(raw))
		return 1;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	if (f < 1.5)
		return mag;
	if (f < 3)
		return 2 * mag;
	if (f < 7)
		return 5 * mag;
	return 10 * mag;
}

/* The data range of one axis, widened to whole steps. */
static void auto_range(const struct ml_svg *p, int yaxis, double *lo, double *hi)
{
	double a = INFINITY, b = -INFINITY, step;
	int i;
	size_t j;

	for (i = 0; i < p->ns; i++) {
		const struct series *s = &p->s[i];
		for (j = 0; j < s->n; j++) {
			double v = yaxis ? s->y[j] : s->x[j];
			if (isfinite(v)) {
				a = fmin(a, v);
				b = fmax(b, v);
			}
			if (yaxis && s->y2 && isfinite(s->y2[j])) {
				a = fmin(a, s->y2[j]);
				b = fmax(b, s->y2[j]);
			}
		}
	}
	if (!(a <= b)) {
		a = 0;
		b = 1;
	}
	if (a == b) {
		double d = a != 0 ? fabs(a) * 0.1 : 0.5;
		a -= d;
		b += d;
	}
	step = nice_step(b - a);
	*lo = floor(a / step) * step;
	*hi = ceil(b / step) * step;
}

struct frame {
	double x0, x1, y0, y1;		 /* data ranges */
	double left, right, top, bottom; /* pixels */
};

static double px(const struct frame *f, double x)
{
	return f->left + (x - f->x0) / (f->x1 - f->x0) * (f->right - f->left);
}

static double py(const struct frame *f, double y)
{
	return f->bottom - (y - f->y0) / (f->y1 - f->y0) * (f->bottom - f->top);
}

/* Write text escaped for XML, control characters dropped. */
static void put_text(FILE *fp, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&':
			fputs("&amp;", fp);
			break;
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		default:
			if (c >= 32 && c != 127)
				fputc(c, fp);
		}
	}
}

static void tick_label(const struct ml_svg *p, int xaxis, double v, char *buf, size_t size)
{
	if (xaxis && p->xfmt) {
		buf[0] = 0;
		p->xfmt(buf, size, v, p->xfmt_ud);
		return;
	}
	if (size > ML_FMT_DOUBLE_MAX)
		ml_fmt_double_prec(buf, v, 10);
	else
		buf[0] = 0;
}

static void axis(const struct ml_svg *p, const struct frame *f, int xaxis, FILE *fp)
{
	double lo = xaxis ? f->x0 : f->y0, hi = xaxis ? f->x1 : f->y1;
	double step = nice_step(hi - lo);
	double k0 = ceil(lo / step - 1e-9), k1 = floor(hi / step + 1e-9), k;
	char buf[64];

	if (k1 - k0 > 50)
		return;
	for (k = k0; k <= k1; k++) {
		double v = k * step;
		if (fabs(v) < step * 1e-9)
			v = 0;
		tick_label(p, xaxis, v, buf, sizeof(buf));
		if (xaxis) {
			double x = px(f, v);
			fprintf(fp,
				"<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
				"stroke=\"#e5e5e5\"/>\n",
				x, f->top, x, f->bottom);
			fprintf(fp,
				"<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
				"stroke=\"#333\"/>\n",
				x, f->bottom, x, f->bottom + 5);
			fprintf(fp, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">", x,
				f->bottom + 19);
		} else {
			double y = py(f, v);
			fprintf(fp,
				"<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
				"stroke=\"#e5e5e5\"/>\n",
				f->left, y, f->right, y);
			fprintf(fp,
				"<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
				"stroke=\"#333\"/>\n",
				f->left - 5, y, f->left, y);
			fprintf(fp, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">", f->left - 8,
				y + 4);
		}
		put_text(fp, buf);
		fputs("</text>\n", fp);
	}
}

static const char *color_of(const struct series *s)
{
	return s->color < 0 ? REF_COLOR : palette[s->color];
}

/* Thinning state of a polyline being written: the last vertex written. */
struct pen {
	FILE *fp;
	int open;
	double lx, ly;
};

static void vertex(struct pen *pn, double x, double y, int last)
{
	if (pn->open && !last && fabs(x - pn->lx) < 0.5 && fabs(y - pn->ly) < 0.5)
		return;
	fprintf(pn->fp, "%s%.2f,%.2f", pn->open ? " " : "", x, y);
	pn->open = 1;
	pn->lx = x;
	pn->ly = y;
}

#define FINITE2(s, k) (isfinite((s)->x[k]) && isfinite((s)->y[k]))

/* A line as polylines, split at non-finite points, steps expanded, then markers. */
static void draw_line(const struct series *s, const struct frame *f, FILE *fp)
{
	const char *col = color_of(s);
	size_t i = 0;

	while (!(s->flags & ML_SVG_NOLINE) && i < s->n) {
		struct pen pn = {fp, 0, 0, 0};
		size_t start;
		while (i < s->n && !FINITE2(s, i))
			i++;
		start = i;
		while (i < s->n && FINITE2(s, i))
			i++;
		if (i - start < 2)
			continue;
		fprintf(fp, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s points=\"",
			col, s->color < 0 ? "1" : "2",
			(s->flags & ML_SVG_DASHED) ? " stroke-dasharray=\"6,4\"" : "");
		for (size_t j = start; j < i; j++) {
			double x = px(f, s->x[j]), y = py(f, s->y[j]);
			if ((s->flags & ML_SVG_STEP) && j > start)
				vertex(&pn, x, py(f, s->y[j - 1]), 0);
			vertex(&pn, x, y, j + 1 == i);
		}
		fputs("\"/>\n", fp);
	}
	if (s->flags & (ML_SVG_MARKERS | ML_SVG_NOLINE)) {
		double lx = -1e9, ly = -1e9;
		for (i = 0; i < s->n; i++) {
			double x, y;
			if (!(isfinite(s->x[i]) && isfinite(s->y[i])))
				continue;
			x = px(f, s->x[i]);
			y = py(f, s->y[i]);
			if (fabs(x - lx) < 0.5 && fabs(y - ly) < 0.5)
				continue;
			fprintf(fp, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\"/>\n", x, y,
				col);
			lx = x;
			ly = y;
		}
	}
}

static void draw_band(const struct series *s, const struct frame *f, FILE *fp)
{
	size_t i = 0, j;

	while (i < s->n) {
		size_t start;
#define OK(k) (isfinite(s->x[k]) && isfinite(s->y[k]) && isfinite(s->y2[k]))
		while (i < s->n && !OK(i))
			i++;
		start = i;
		while (i < s->n && OK(i))
			i++;
#undef OK
		if (i - start < 2)
			continue;
		fprintf(fp, "<polygon fill=\"%s\" fill-opacity=\"0.2\" stroke=\"none\" points=\"",
			color_of(s));
		for (j = start; j < i; j++)
			fprintf(fp, "%s%.2f,%.2f", j > start ? " " : "", px(f, s->x[j]),
				py(f, s->y2[j]));
		for (j = i; j-- > start;)
			fprintf(fp, " %.2f,%.2f", px(f, s->x[j]), py(f, s->y[j]));
		fputs("\"/>\n", fp);
	}
}

static void draw_legend(const struct ml_svg *p, const struct frame *f, FILE *fp)
{
	int i, n = 0;
	size_t maxlen = 0;
	double w, h, x, y;

	if (p->legend == ML_SVG_NO_LEGEND)
		return;
	for (i = 0; i < p->ns; i++)
		if (p->s[i].label) {
			size_t l = strlen(p->s[i].label);
			n++;
			if (l > maxlen)
				maxlen = l;
		}
	if (!n)
		return;
	w = 44 + 7.0 * (double)maxlen;
	h = 8 + 18.0 * n;
	x = (p->legend == ML_SVG_TOP_LEFT || p->legend == ML_SVG_BOTTOM_LEFT) ? f->left + 10
									      : f->right - 10 - w;
	y = (p->legend == ML_SVG_TOP_LEFT || p->legend == ML_SVG_TOP_RIGHT) ? f->top + 10
									    : f->bottom - 10 - h;
	fprintf(fp,
		"<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"white\" "
		"fill-opacity=\"0.9\" stroke=\"#bbb\"/>\n",
		x, y, w, h);
	n = 0;
	for (i = 0; i < p->ns; i++) {
		const struct series *s = &p->s[i];
		double ly = y + 15 + 18.0 * n;
		if (!s->label)
			continue;
		if (s->band)
			fprintf(
			    fp,
			    "<rect x=\"%.2f\" y=\"%.2f\" width=\"24\" height=\"10\" fill=\"%s\" "
			    "fill-opacity=\"0.2\"/>\n",
			    x + 8, ly - 9, color_of(s));
		else {
			if (!(s->flags & ML_SVG_NOLINE))
				fprintf(fp,
					"<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
					"stroke=\"%s\" "
					"stroke-width=\"2\"%s/>\n",
					x + 8, ly - 4, x + 32, ly - 4, color_of(s),
					(s->flags & ML_SVG_DASHED) ? " stroke-dasharray=\"6,4\""
								   : "");
			if (s->flags & (ML_SVG_MARKERS | ML_SVG_NOLINE))
				fprintf(fp,
					"<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\"/>\n",
					x + 20, ly - 4, color_of(s));
		}
		fprintf(fp, "<text x=\"%.2f\" y=\"%.2f\">", x + 38, ly);
		put_text(fp, s->label);
		fputs("</text>\n", fp);
		n++;
	}
}

int ml_svg_write(const struct ml_svg *p, FILE *fp, struct ml_err *e)
{
	struct frame f;
	int i;

	if (p->xfixed) {
		f.x0 = p->x0;
		f.x1 = p->x1;
	} else
		auto_range(p, 0, &f.x0, &f.x1);
	if (p->yfixed) {
		f.y0 = p->y0;
		f.y1 = p->y1;
	} else
		auto_range(p, 1, &f.y0, &f.y1);
	f.left = 72;
	f.right = p->width - 24;
	f.top = p->title ? 40 : 20;
	f.bottom = p->height - 52;

	fprintf(fp,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
		p->width, p->height, p->width, p->height);
	if (p->title) {
		fputs("<title>", fp);
		put_text(fp, p->title);
		fputs("</title>\n", fp);
	}
	fprintf(fp, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", p->width, p->height);
	fprintf(fp,
		"<defs><clipPath id=\"plot-area\"><rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
		"height=\"%.2f\"/></clipPath></defs>\n",
		f.left, f.top, f.right - f.left, f.bottom - f.top);
	axis(p, &f, 1, fp);
	axis(p, &f, 0, fp);
	fprintf(fp,
		"<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
		"stroke=\"#333\"/>\n",
		f.left, f.top, f.right - f.left, f.bottom - f.top);
	if (p->title) {
		fprintf(fp, "<text x=\"%.2f\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">",
			(f.left + f.right) / 2);
		put_text(fp, p->title);
		fputs("</text>\n", fp);
	}
	if (p->xlabel) {
		fprintf(fp, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">",
			(f.left + f.right) / 2, (double)p->height - 14);
		put_text(fp, p->xlabel);
		fputs("</text>\n", fp);
	}
	if (p->ylabel) {
		double cy = (f.top + f.bottom) / 2;
		fprintf(fp,
			"<text x=\"18\" y=\"%.2f\" text-anchor=\"middle\" "
			"transform=\"rotate(-90 18 %.2f)\">",
			cy, cy);
		put_text(fp, p->ylabel);
		fputs("</text>\n", fp);
	}
	fputs("<g clip-path=\"url(#plot-area)\">\n", fp);
	for (i = 0; i < p->ns; i++)
		if (p->s[i].band)
			draw_band(&p->s[i], &f, fp);
	for (i = 0; i < p->ns; i++)
		if (!p->s[i].band)
			draw_line(&p->s[i], &f, fp);
	fputs("</g>\n", fp);
	draw_legend(p, &f, fp);
	fputs("</svg>\n", fp);
	if (ferror(fp))
		return ml_err_set(e, ML_E_IO, NULL, 0, 0, "write error");
	return 0;
}
