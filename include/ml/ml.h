/* libml: everything public.
 *
 * Threads, for the whole library. There is no global mutable state: objects that are not
 * shared need no locking, whatever the threads. An object is used by one thread at a
 * time, except:
 *  - what is fitted or loaded is immutable once it has been returned, and may be shared
 *    by any number of threads: an artefact (artefact.h), a learner (learn.h; but
 *    ml_learner_fitted is for the fitting thread) and a forecaster (forecast.h); each
 *    thread applies it through a scorer or predictor of its own;
 *  - what a function takes by const pointer it only reads, so any number of threads may
 *    read one object (a loaded ml_model, a schema, a frame, an evaluator) while none
 *    changes it.
 * So readers, writers, inputs, outputs, scorers, chains, predictors, feature pipelines
 * being fitted or replayed (they carry state from block to block), random generators,
 * sketches and contexts are per thread.
 *
 * The library starts threads only through struct ml_pool: the pool of the struct ml_ctx
 * a function is given, a pool given to a function or to a scorer or predictor
 * (ml_scorer_set_pool, ml_predictor_set_pool), and one that ml_frame_read starts and ends
 * itself when ml_read_opts.threads asks for more than one. A pool runs one job at a time:
 * no two threads may call ml_pool_run on it at once, and no task may call it. A context's
 * log callback is called on the caller's thread, never on a pool worker. BLAS calls may
 * use BLAS's own threads (see ml_blas_rest).
 *
 * Results never depend on the number of threads: work is cut into tasks that do not
 * depend on the worker count, a task's random numbers come from ml_rng_derive(seed,
 * task), and per-task results are combined in task order, so the same input and seed
 * give the same bytes with one thread or many. */
#ifndef ML_ML_H
#define ML_ML_H

#include "ml/version.h"
#include "ml/err.h"
#include "ml/num.h"
#include "ml/frame.h"
#include "ml/io.h"
#include "ml/table.h"
#include "ml/model.h"
#include "ml/ctx.h"
#include "ml/stats.h"
#include "ml/split.h"
#include "ml/metrics.h"
#include "ml/eval.h"
#include "ml/pred.h"
#include "ml/svg.h"
#include "ml/learn.h"
#include "ml/cv.h"
#include "ml/feat.h"
#include "ml/artefact.h"
#include "ml/forecast.h"
#include "ml/fingerprint.h"
#include "ml/ensemble.h"

#endif
