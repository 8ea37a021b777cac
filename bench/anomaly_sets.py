"""Labelled outlier data sets for bench/anomaly_ens.sh, made as the ODDS benchmark makes
its sets: one class or a few (a minority) are the outliers, downsampled when large,
every other row is an inlier. Sources: R's mlbench package (the raw tables written by
Rscript into DIR/raw first) and scikit-learn's bundled data. Writes DIR/NAME.csv:
numeric features, then outlier (0/1). Usage: anomaly_sets.py DIR"""
import os
import sys

import numpy as np
import pandas as pd
from sklearn import datasets

D = sys.argv[1]
rng = np.random.RandomState(0)


def raw(name):
    return pd.read_csv(os.path.join(D, "raw", name + ".csv"))


def make(name, X, is_out, n_out=None):
    """Rows of X with is_out marking outliers; keep n_out of them (seeded) when given."""
    X = pd.DataFrame(np.asarray(X, dtype=float))
    is_out = np.asarray(is_out, dtype=bool)
    keep = ~is_out
    out_idx = np.flatnonzero(is_out)
    if n_out is not None and n_out < len(out_idx):
        out_idx = rng.choice(out_idx, n_out, replace=False)
    keep[out_idx] = True
    X = X[keep].reset_index(drop=True)
    y = is_out[keep].astype(int)
    X = X.loc[:, X.std() > 0]  # constant columns carry nothing
    X.columns = ["x%d" % (j + 1) for j in range(X.shape[1])]
    X["outlier"] = y
    X.to_csv(os.path.join(D, name + ".csv"), index=False, float_format="%.10g")
    print("%-12s %6d rows %3d features %5d outliers (%.1f%%)"
          % (name, len(X), X.shape[1] - 1, y.sum(), 100 * y.mean()))


def feats(df, cls):
    return df.drop(columns=[cls]).apply(pd.to_numeric, errors="coerce")


# mlbench (ODDS: shuttle, glass, ionosphere, satimage-2, letter, breastw, pima, vowels)
s = raw("Shuttle")
s = s[s.Class != "High"]
make("shuttle", feats(s, "Class"), s.Class != "Rad.Flow")
g = raw("Glass")
make("glass", feats(g, "Type"), g.Type == 6)
i = raw("Ionosphere")
make("ionosphere", feats(i, "Class"), i.Class == "bad")
t = raw("Satellite")
make("satimage2", feats(t, "classes"), t.classes == "cotton crop", 71)
l = raw("LetterRecognition")
l = l[l.lettr.isin(list("ABCDEFGHIJKLMNOP")) | (l.lettr == "Z")]
inl = np.flatnonzero(l.lettr != "Z")
l = pd.concat([l.iloc[rng.choice(inl, 1500, replace=False)], l[l.lettr == "Z"]])
make("letter", feats(l, "lettr"), l.lettr == "Z", 100)
b = raw("BreastCancer").drop(columns=["Id"]).dropna()
make("breastw", feats(b, "Class"), b.Class == "malignant")
p = raw("PimaIndiansDiabetes")
make("pima", feats(p, "diabetes"), p.diabetes == "pos")
v = raw("Vowel").drop(columns=["V1"])
make("vowels", feats(v, "Class"), v.Class == "hid", 50)
h = raw("Vehicle")
make("vehicle", feats(h, "Class"), h.Class == "van", 40)
o = raw("Sonar")
make("sonar", feats(o, "Class"), o.Class == "R", 10)

# scikit-learn (ODDS: wbc, wine, optdigits)
c = datasets.load_breast_cancer()
make("wbc", c.data, c.target == 0, 21)
w = datasets.load_wine()
make("wine", w.data, w.target == 0, 10)
dg = datasets.load_digits()
make("digits", dg.data, dg.target == 0, 50)
