/* libml: everything public. */
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

#endif
