/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The thin, NULL-safe wrappers around a source's ops table, so callers never
 * reach into `ops` themselves. Each implementation (file, Kubernetes API)
 * lives in its own file and only fills the table.
 */
#include "source/source.h"

enum osw_err osw_source_start(struct osw_source *src, struct osw_errbuf *eb)
{
    if (!src || !src->ops || !src->ops->start)
        return osw_errbuf_set(eb, OSW_EINVAL, "no OSImageStream source");
    return src->ops->start(src, eb);
}

void osw_source_stop(struct osw_source *src)
{
    if (src && src->ops && src->ops->stop)
        src->ops->stop(src);
}

void osw_source_destroy(struct osw_source *src)
{
    if (src && src->ops && src->ops->destroy)
        src->ops->destroy(src);
}
