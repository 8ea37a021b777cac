/* Version of libml and of every mlpipe command. */
#ifndef ML_VERSION_H
#define ML_VERSION_H

#define ML_VERSION_MAJOR 0
#define ML_VERSION_MINOR 1
#define ML_VERSION_PATCH 0
#define ML_VERSION "0.1.0"

#endif
