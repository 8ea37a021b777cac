/* Exact TreeSHAP (Lundberg, Erion and Lee 2018, Algorithm 2) for mlpredict --contrib. */
#include <stdlib.h>
#include <string.h>

#include "tree.h"

#define SHAP_MAX_DEPTH 2000

struct pel {
	int feat;
	double zero, one, pw;
};

static void extend_path(struct pel *u, int d, double zero, double one, int feat)
{
	int i;

	u[d].feat = feat;
	u[d].zero = zero;
	u[d].one = one;
	u[d].pw = d == 0 ? 1 : 0;
	for (i = d - 1; i >= 0; i--) {
		u[i + 1].pw += one * u[i].pw * (i + 1) / (double)(d + 1);
		u[i].pw = zero * u[i].pw * (d - i) / (double)(d + 1);
	}
}

static void unwind_path(struct pel *u, int d, int pi)
{
	double one = u[pi].one, zero = u[pi].zero, next = u[d].pw;
	int i;

	for (i = d - 1; i >= 0; i--) {
		if (one != 0) {
			double tmp = u[i].pw;
			u[i].pw = next * (d + 1) / ((i + 1) * one);
			next = tmp - u[i].pw * zero * (d - i) / (double)(d + 1);
		} else {
			u[i].pw = u[i].pw * (d + 1) / (zero * (d - i));
		}
	}
	for (i = pi; i < d; i++) {
		u[i].feat = u[i + 1].feat;
		u[i].zero = u[i + 1].zero;
		u[i].one = u[i + 1].one;
	}
}

static double unwound_sum(const struct pel *u, int d, int pi)
{
	double one = u[pi].one, zero = u[pi].zero, next = u[d].pw, total = 0;
	int i;

	for (i = d - 1; i >= 0; i--) {
		if (one != 0) {
			double tmp = next * (d + 1) / ((i + 1) * one);
			total += tmp;
			next = u[i].pw - tmp * zero * ((d - i) / (double)(d + 1));
		} else {
			total += (u[i].pw / zero) / ((d - i) / (double)(d + 1));
		}
	}
	return total;
}

struct shap {
	const struct ml_forest *F;
	const struct ml_tnode *nd;
	int32_t s; /* the tree's first node */
	const double *X;
	size_t ld, i;
	double *phi; /* K blocks of p + 1 */
	int p;
	int no;	     /* outputs of the tree's leaves taken */
	int oix[64]; /* leaf value index per output taken */
	int kix[64]; /* margin block per output taken */
	double scale;
};

static int go_left(const struct ml_tnode *q, const uint32_t *bits, double x)
{
	if (x != x)
		return q->dleft;
	if (q->cat < 0)
		return x <= q->thr;
	return x >= 0 && x < q->thr &&
	       (bits[q->cat + (int32_t)((uint32_t)x >> 5)] >> ((uint32_t)x & 31)) & 1;
}

static void tree_shap(const struct shap *S, int32_t k, int d, struct pel *parent, double pzero,
		      double pone, int pfeat)
{
	const struct ml_tnode *q = &S->nd[k];
	struct pel *u = parent + d + 1;
	int i, pi, o;

	memcpy(u, parent, (size_t)(d + 1) * sizeof(*u));
	extend_path(u, d, pzero, pone, pfeat);
	if (q->feat < 0) {
		const struct ml_forest *F = S->F;
		for (i = 1; i <= d; i++) {
			double w = unwound_sum(u, d, i) * (u[i].one - u[i].zero) * S->scale;
			for (o = 0; o < S->no; o++) {
				double v = F->nout == 1 ? q->thr : F->val[q->left + S->oix[o]];
				S->phi[(size_t)S->kix[o] * (size_t)(S->p + 1) +
				       (size_t)u[i].feat] += w * v;
			}
		}
		return;
	} else {
		int32_t hot = q->left, cold;
		double izero = 1, ione = 1, fh, fc;
		if (!go_left(q, S->F->bits, S->X[(size_t)q->feat * S->ld + S->i]))
			hot++;
		cold = hot == q->left ? q->left + 1 : q->left;
		fh = ml_forest_frac(S->F, S->s + k, S->s + hot);
		fc = ml_forest_frac(S->F, S->s + k, S->s + cold);
		for (pi = 0; pi <= d; pi++)
			if (u[pi].feat == q->feat)
				break;
		if (pi != d + 1) {
			izero = u[pi].zero;
			ione = u[pi].one;
			unwind_path(u, d, pi);
			d--;
		}
		tree_shap(S, hot, d + 1, u, fh * izero, ione, q->feat);
		tree_shap(S, cold, d + 1, u, fc * izero, 0, q->feat);
	}
}

int ml_forest_contrib(const struct ml_forest *F, const double *X, size_t n, size_t ld, int m0,
		      int K, double *out, struct ml_err *e)
{
	int t, maxd = 0, k, o;
	size_t i, w = (size_t)K * (size_t)(F->p + 1), plen;
	struct pel *path;
	struct shap S;
	double sc = F->average && F->ntrees ? 1.0 / F->ntrees : 1.0;

	if (!F->mean)
		return ml_err_set(e, ML_E_INTERNAL, NULL, 0, 0, "forest not finished");
	if (K > 64 && F->nout > 1)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "contributions for at most 64 classes of a forest");
	for (t = 0; t < F->ntrees; t++) {
		int d = ml_tree_depth(F->node + F->start[t], F->start[t + 1] - F->start[t]);
		if (d > maxd)
			maxd = d;
	}
	/* The path storage grows with the square of the depth. */
	if (maxd > SHAP_MAX_DEPTH)
		return ml_err_set(e, ML_E_USAGE, NULL, 0, 0,
				  "contributions need trees at most %d deep (one here is %d; "
				  "limit --max-depth)",
				  SHAP_MAX_DEPTH, maxd);
	plen = ((size_t)maxd + 2) * ((size_t)maxd + 3) / 2 + 2;
	path = malloc(plen * sizeof(*path));
	if (!path)
		return ml_err_nomem(e);
	memset(&S, 0, sizeof(S));
	S.F = F;
	S.X = X;
	S.ld = ld;
	S.p = F->p;
	S.scale = sc;
	for (i = 0; i < n; i++) {
		double *phi = out + i * w;
		memset(phi, 0, w * sizeof(double));
		for (k = 0; k < K; k++)
			phi[(size_t)k * (size_t)(F->p + 1) + (size_t)F->p] = F->base[m0 + k];
		S.phi = phi;
		S.i = i;
		for (t = 0; t < F->ntrees; t++) {
			int g = (t % F->ngroup) * F->nout;
			S.no = 0;
			for (o = 0; o < F->nout; o++)
				if (g + o >= m0 && g + o < m0 + K && S.no < 64) {
					S.oix[S.no] = o;
					S.kix[S.no++] = g + o - m0;
				}
			if (!S.no)
				continue;
			S.s = F->start[t];
			S.nd = F->node + S.s;
			for (o = 0; o < S.no; o++)
				phi[(size_t)S.kix[o] * (size_t)(F->p + 1) + (size_t)F->p] +=
				    sc * F->mean[(size_t)S.s * F->nout + (size_t)S.oix[o]];
			tree_shap(&S, 0, 0, path, 1, 1, -1);
		}
	}
	free(path);
	return 0;
}
