package io.mysimbdp.protocol;

import java.util.List;

/** The answer of {@code GET /v1/tenants/{id}/files}: the files and how many more may be staged. */
public record FileList(List<StagedFile> files, int count, int maxFiles) {}
