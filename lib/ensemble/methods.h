/* The ensemble methods, one line each: ML_ENS(id, name, fitted, files), where fitted says
 * whether fitted members can be nested with it and files whether prediction files can be
 * combined with it. A method to come (anomaly scores) is one more line and its rule in
 * ml_ens_combine_row. */
ML_ENS(ML_ENS_MEAN, "mean", 1, 1)
ML_ENS(ML_ENS_MEDIAN, "median", 1, 1)
ML_ENS(ML_ENS_VOTE, "vote", 1, 1)
ML_ENS(ML_ENS_WEIGHTED, "weighted", 1, 0)
ML_ENS(ML_ENS_RANK, "rank", 0, 1)
ML_ENS(ML_ENS_STACK, "stack", 1, 0)
ML_ENS(ML_ENS_ANOMALY, "anomaly", 1, 0)
