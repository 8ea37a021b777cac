/* The algorithm table, one line each, in the order mltrain --help lists them: a file that
 * defines ML_ALGO(name) and includes this one sees every algorithm once. Each is defined
 * as const struct ml_algo ml_algo_NAME in its algo_NAME.c (ridge, lasso and elasticnet
 * beside linear), here or in tree/. */
ML_ALGO(linear)
ML_ALGO(ridge)
ML_ALGO(lasso)
ML_ALGO(elasticnet)
ML_ALGO(logistic)
ML_ALGO(nb)
ML_ALGO(knn)
ML_ALGO(gbdt)
ML_ALGO(rf)
ML_ALGO(tree)
ML_ALGO(iforest)
ML_ALGO(zscore)
ML_ALGO(lof)
ML_ALGO(hbos)
ML_ALGO(ecod)
ML_ALGO(baseline)
ML_ALGO(gp)
ML_ALGO(mlp)
ML_ALGO(kmeans)
ML_ALGO(autoencoder)
