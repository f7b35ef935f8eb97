package io.mysimbdp.node.http;

import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Sorts;
import io.mysimbdp.node.batch.FileUploads;
import io.mysimbdp.node.batch.Names;
import io.mysimbdp.node.batch.StagingStore;
import akka.actor.typed.ActorSystem;
import akka.Done;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import io.mysimbdp.node.batch.BatchIngestor;
import io.mysimbdp.node.batch.IngestionJobs;
import io.mysimbdp.node.batch.StagedFileViews;
import io.mysimbdp.node.entity.IngestionServices;
import io.mysimbdp.node.entity.TenantIngestor;
import io.mysimbdp.protocol.IngestionRequest;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import org.bson.types.ObjectId;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.node.coredms.TenantCollections;
import io.mysimbdp.node.tenant.TenantRepository;
import io.mysimbdp.protocol.DataFormat;
import io.mysimbdp.protocol.FileList;
import io.mysimbdp.protocol.ProtocolJson;
import io.mysimbdp.protocol.Tenant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.bson.Document;
import org.bson.json.JsonWriterSettings;

/**
 * Batch routes under {@code /v1/tenants/{id}}:
 *
 * <pre>
 * POST   files?name=&amp;category=&amp;duplicate=   upload one file (text/csv, application/x-ndjson, application/json):
 *                                   201 with the file; 409 duplicate_file when the tenant has a live file with the same
 *                                   SHA-256 (details.fileId and the Mysimbdp-File-Id header name it; nothing is kept)
 *                                   unless duplicate=allow, which keeps a copy
 * GET    files                      list staged files with state and counts
 * GET    files/{file}               one file
 * DELETE files/{file}               remove a file that is not in a job (queued or ingesting: 409 file_in_use)
 * GET    data/{collection}?limit=&amp;after=   page through the tenant's ingested records
 * POST   ingestions                 ingest the listed files ({"files":[...]}) or every staged file: 202 with the job
 *                                   once the tenant's ingestor has it (503 naming the stored job when it did not answer);
 *                                   its files are queued (409 file_in_use for a listed file already in a job,
 *                                   details.job naming that job)
 * GET    ingestions                 the tenant's recent jobs
 * GET    ingestions/{job}           a job's state, files and counts
 * </pre>
 *
 * <p>{@code data/{collection}} also takes {@code field=&amp;equals=}: only the records whose field
 * equals a JSON value, e.g. a sealed value by its ciphertext ({@link DataFilter}).
 */
public final class BatchRoutes extends UploadDirectives implements TenantSubRoutes {
  private static final long MEGABYTE = 1024L * 1024L;
  private static final scala.concurrent.duration.FiniteDuration UPLOAD_TIMEOUT =
      scala.concurrent.duration.FiniteDuration.create(2, java.util.concurrent.TimeUnit.HOURS);
  private static final int MAX_PAGE = 1000;
  /** A data page also ends before its records' JSON passes this (one record always comes): pages of large records stay bounded. */
  static final long MAX_PAGE_CHARS = 16L * 1024 * 1024;

  private record RenderedRecord(Object id, String json) {}
  private static final int LIST_LIMIT = 10_000;
  private static final int RECENT_JOBS = 100;
  /** How long a file claimed for a job not stored yet stays claimed: far longer than a request. */
  private static final java.time.Duration CLAIM_GRACE = java.time.Duration.ofMinutes(2);
  private static final JsonWriterSettings RELAXED = io.mysimbdp.node.pipeline.SealedBson.RELAXED_JSON; // sealed values as {"$sealed":...}

  private final TenantRepository tenants;
  private final StagingStore staging;
  private final FileUploads uploads;
  private final CoreDms coreDms;
  private final IngestionJobs jobs;
  private final ClusterSharding sharding;
  private final java.time.Duration askTimeout;

  public BatchRoutes(
      ActorSystem<?> system, Authenticator authenticator, long maxControlBodyBytes, TenantRepository tenants,
      FileUploads uploads, IngestionServices services, java.time.Duration askTimeout) {
    super(authenticator, maxControlBodyBytes);
    this.tenants = tenants;
    this.staging = services.staging();
    this.uploads = uploads;
    this.coreDms = services.coreDms();
    this.jobs = services.batch().jobs();
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = askTimeout;
  }

  @Override
  public Route routes(Caller caller, String tenantId) {
    return concat(
        path("files", () -> concat(post(() -> upload(tenantId)), get(() -> listFiles(tenantId)))),
        path(PathMatchers.segment("files").slash(PathMatchers.segment()), fileId -> concat(
            get(() -> onSuccess(staging.findFile(tenantId, fileId), file -> file
                .map(f -> completeJson(StatusCodes.OK, StagedFileViews.toApi(f)))
                .orElseGet(() -> noSuchFile(fileId)))),
            delete(() -> deleteFile(tenantId, fileId)))),
        path(PathMatchers.segment("data").slash(PathMatchers.segment()), collection -> get(() -> dataPage(tenantId, collection))),
        path("ingestions", () -> concat(
            post(() -> controlBody(IngestionRequest.class, false, new IngestionRequest(null),
                request -> startIngestion(tenantId, request))),
            get(() -> onSuccess(jobs.recent(tenantId, RECENT_JOBS), recent -> completeJson(StatusCodes.OK, Map.of("jobs", recent)))))),
        path(PathMatchers.segment("ingestions").slash(PathMatchers.segment()), jobId -> get(() ->
            onSuccess(jobs.view(tenantId, jobId), job -> job
                .map(j -> completeJson(StatusCodes.OK, j))
                .orElseGet(() -> error(StatusCodes.NOT_FOUND, "job_not_found", "there is no ingestion job '" + jobId + "'"))))));
  }

  private Route startIngestion(String tenantId, IngestionRequest request) {
    List<String> wanted = request.files() == null ? List.of() : request.files();
    return onSuccess(staging.listFiles(tenantId, LIST_LIMIT), files -> {
      Map<String, Document> byId = files.stream().collect(Collectors.toMap(f -> f.getString("_id"), f -> f));
      List<Document> candidates = new ArrayList<>();
      if (wanted.isEmpty()) {
        files.stream().filter(f -> StagedFileViews.STAGED.equals(meta(f).getString("state"))).forEach(candidates::add);
        if (candidates.isEmpty()) {
          return nothingToIngest(tenantId);
        }
      } else {
        for (String id : new LinkedHashSet<>(wanted)) {
          Document file = byId.get(id);
          if (file == null) {
            return error(StatusCodes.NOT_FOUND, "file_not_found", "there is no file '" + id + "'", Map.of("file", id));
          }
          candidates.add(file);
        }
      }
      String jobId = new ObjectId().toHexString();
      // Each file is claimed for the job in the store (one conditional update each): a file already
      // in a job is never queued twice, however many requests race.
      return onSuccess(claimAll(tenantId, jobId, candidates, !wanted.isEmpty(), 0, new ArrayList<>()), claim -> {
        if (claim.busy() != null) {
          // The job holding it may be one whose 202 never reached the client (its node went down
          // after storing it, before telling the tenant's entity): the entity hears of it again,
          // and the answer names it, so a client that sends its request again can follow it.
          String holder = byId.containsKey(claim.busy()) ? meta(byId.get(claim.busy())).getString("job") : null;
          Map<String, Object> details = new java.util.LinkedHashMap<>();
          details.put("file", claim.busy());
          if (holder != null) {
            details.put("job", holder);
            sharding.entityRefFor(TenantIngestor.ENTITY_KEY, tenantId).tell(new TenantIngestor.ToBatch(new BatchIngestor.JobQueued(holder)));
          }
          return onSuccess(unclaimAll(tenantId, jobId, claim.claimed()), released -> error(StatusCodes.CONFLICT, "file_in_use",
              "file '" + claim.busy() + "' is in another ingestion job" + (holder == null ? "" : " (" + holder + ")")
                  + "; queue it when that job ends", details));
        }
        if (claim.claimed().isEmpty()) {
          return nothingToIngest(tenantId);
        }
        List<IngestionJobs.JobFile> jobFiles = claim.claimed().stream()
            .map(f -> new IngestionJobs.JobFile(f.getString("_id"), meta(f).getString("name"), meta(f).getString("category"),
                meta(f).getString("format"), ((Number) f.get("length")).longValue()))
            .toList();
        CompletionStage<Boolean> queued = jobs.create(tenantId, jobId, jobFiles)
            .exceptionallyCompose(failure -> unclaimAll(tenantId, jobId, claim.claimed())
                .handle((r, e) -> { throw new java.util.concurrent.CompletionException(failure); }))
            // 202 only once the tenant's entity has the job: a tell could die with a node that is
            // going down, and the job would wait for the entity's next start.
            .thenCompose(created -> sharding.entityRefFor(TenantIngestor.ENTITY_KEY, tenantId)
                .<Done>ask(replyTo -> new TenantIngestor.QueueJob(jobId, replyTo), askTimeout)
                .handle((done, failure) -> failure == null));
        return onSuccess(queued, taken -> taken
            ? onSuccess(jobs.view(tenantId, jobId), job -> completeJson(StatusCodes.ACCEPTED, job.orElseThrow()))
            : retryLater(StatusCodes.SERVICE_UNAVAILABLE, "unavailable",
                "job " + jobId + " is stored but the tenant's ingestor did not confirm it in time; send the request again "
                    + "(the answer names the job)", 1, Map.of("job", jobId)));
      });
    });
  }

  private static Route nothingToIngest(String tenantId) {
    return error(StatusCodes.UNPROCESSABLE_ENTITY, "nothing_to_ingest", "tenant '" + tenantId + "' has no staged files");
  }

  /** The files claimed for a job, and the first one another job held (null when none). */
  private record Claim(List<Document> claimed, String busy) {}

  /**
   * Claims {@code files} from {@code i} on, one after the other. {@code allOrNothing} (an explicit
   * list) stops at the first file another job holds; otherwise ("every staged file") such a file,
   * just taken by a concurrent request, is skipped.
   */
  private CompletionStage<Claim> claimAll(
      String tenantId, String jobId, List<Document> files, boolean allOrNothing, int i, List<Document> claimed) {
    if (i == files.size()) {
      return CompletableFuture.completedFuture(new Claim(claimed, null));
    }
    Document file = files.get(i);
    String fileId = file.getString("_id");
    return claim(tenantId, fileId, jobId).thenCompose(ok -> {
      if (ok) {
        claimed.add(file);
      } else if (allOrNothing) {
        return CompletableFuture.completedFuture(new Claim(claimed, fileId));
      }
      return claimAll(tenantId, jobId, files, allOrNothing, i + 1, claimed);
    });
  }

  /**
   * Claims one file for the job. A file still marked as held by a job that is no longer unfinished
   * (its request failed half-way, or a node died between two writes) is freed first: the job's
   * state is the truth, the file's mark only a lock.
   */
  private CompletionStage<Boolean> claim(String tenantId, String fileId, String jobId) {
    return staging.claimForJob(tenantId, fileId, jobId).thenCompose(ok -> ok
        ? CompletableFuture.completedFuture(true)
        : freeIfOrphaned(tenantId, fileId).thenCompose(freed -> freed
            ? staging.claimForJob(tenantId, fileId, jobId)
            : CompletableFuture.completedFuture(false)));
  }

  /**
   * Frees a file whose job mark names a job that is not queued or running — finished, or never
   * stored and claimed longer ago than a request takes ({@link #CLAIM_GRACE}: a job is stored just
   * after its files are claimed); true when it did.
   */
  private CompletionStage<Boolean> freeIfOrphaned(String tenantId, String fileId) {
    return staging.findFile(tenantId, fileId).thenCompose(file -> {
      String holder = file.map(f -> meta(f).getString("job")).orElse(null);
      if (holder == null) {
        return CompletableFuture.completedFuture(false);
      }
      java.util.Date claimedAt = meta(file.get()).getDate("claimedAt");
      boolean claimLongAgo = claimedAt == null || claimedAt.toInstant().isBefore(java.time.Instant.now().minus(CLAIM_GRACE));
      return jobs.find(tenantId, holder).thenCompose(job -> {
        String state = job.map(j -> j.getString("state")).orElse(null);
        if (IngestionJobs.QUEUED.equals(state) || IngestionJobs.RUNNING.equals(state) || (job.isEmpty() && !claimLongAgo)) {
          return CompletableFuture.completedFuture(false);
        }
        return staging.releaseOrphan(tenantId, fileId, holder);
      });
    });
  }

  private CompletionStage<Void> unclaimAll(String tenantId, String jobId, List<Document> claimed) {
    CompletionStage<Void> all = CompletableFuture.completedFuture(null);
    for (Document file : claimed) {
      all = all.thenCompose(d -> staging.unclaim(tenantId, file.getString("_id"), jobId));
    }
    return all;
  }

  private static Document meta(Document file) {
    return file.get("metadata", Document.class);
  }

  private Route upload(String tenantId) {
    return parameterOptional("name", name -> parameterOptional("category", category -> duplicatePolicy(allowDuplicate ->
        withTenant(tenantId, tenant -> extractRequestEntity(entity -> {
          String fileName = Names.fileName(name.orElse(null));
          String cat = Names.category(category.orElse(null));
          String mediaType = entity.getContentType().mediaType().toString();
          Optional<DataFormat> format = DataFormat.fromMediaType(mediaType);
          if (format.isEmpty()) {
            return error(StatusCodes.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                "send the file as text/csv, application/x-ndjson or application/json, not " + mediaType);
          }
          if (!tenant.constraints().formats().contains(format.get().id())) {
            return error(StatusCodes.UNSUPPORTED_MEDIA_TYPE, "format_not_allowed",
                "tenant '" + tenantId + "' may upload only " + tenant.constraints().formats() + ", not " + format.get().id());
          }
          long maxBytes = tenant.constraints().maxFileSizeMegabytes() * MEGABYTE;
          if (entity.getContentLengthOption().isPresent() && entity.getContentLengthOption().getAsLong() > maxBytes) {
            return error(StatusCodes.PAYLOAD_TOO_LARGE, "file_too_large",
                "the file is " + entity.getContentLengthOption().getAsLong() + " bytes; the tenant's limit is " + maxBytes,
                Map.of("limitBytes", maxBytes));
          }
          return withRequestTimeout(UPLOAD_TIMEOUT, () -> answeringDuplicates(
              uploads.stage(
                  tenantId,
                  tenant.constraints().maxFiles(),
                  maxBytes,
                  new FileUploads.Upload(fileName, cat, format.get()),
                  // The tenant's limit is enforced by the upload itself (UploadLimit).
                  entity.withoutSizeLimit().getDataBytes(),
                  allowDuplicate),
              file -> completeJson(StatusCodes.CREATED, file)));
        })))));
  }


  private Route listFiles(String tenantId) {
    return withTenant(tenantId, tenant -> onSuccess(staging.listFiles(tenantId, LIST_LIMIT), files -> completeJson(
        StatusCodes.OK,
        new FileList(
            files.stream().map(io.mysimbdp.node.batch.StagedFileViews::toApi).toList(),
            files.size(),
            tenant.constraints().maxFiles()))));
  }

  private Route deleteFile(String tenantId, String fileId) {
    return onSuccess(deleteUnlessInAJob(tenantId, fileId), deletion -> switch (deletion) {
      case NOT_FOUND -> noSuchFile(fileId);
      case IN_USE -> error(StatusCodes.CONFLICT, "file_in_use",
          "file '" + fileId + "' is queued or being ingested; delete it when its job ends", Map.of("file", fileId));
      // Only the DELETE that removed the file gives its slot back: two at once free one slot.
      case DELETED -> onSuccess(tenants.releaseFileSlot(tenantId), done -> complete(StatusCodes.NO_CONTENT));
    });
  }

  private CompletionStage<StagingStore.Deletion> deleteUnlessInAJob(String tenantId, String fileId) {
    return staging.deleteUnlessInAJob(tenantId, fileId).thenCompose(deletion -> deletion != StagingStore.Deletion.IN_USE
        ? CompletableFuture.completedFuture(deletion)
        : freeIfOrphaned(tenantId, fileId).thenCompose(freed -> freed
            ? staging.deleteUnlessInAJob(tenantId, fileId)
            : CompletableFuture.completedFuture(deletion)));
  }

  private Route dataPage(String tenantId, String rawCollection) {
    return parameterMap(query -> parameterOptional("limit", limitParam -> parameterOptional("after", after -> {
      String collection = TenantCollections.dataCollection(rawCollection);
      int limit = parseLimit(limitParam.orElse(null));
      var filter = DataFilter.withEquals(after.map(a -> Filters.gt("_id", a)).orElse(new Document()), query); // ?field=&equals=
      return onSuccess(
          coreDms.page(coreDms.tenantDatabase(tenantId).getCollection(collection).find(filter).sort(Sorts.ascending("_id")).limit(limit),
              d -> new RenderedRecord(d.get("_id"), d.toJson(RELAXED)), r -> r.json().length(), MAX_PAGE_CHARS),
          page -> {
            List<RenderedRecord> records = page.items();
            String next = page.cut() || records.size() == limit ? String.valueOf(records.get(records.size() - 1).id()) : null;
            String body = "{\"records\":["
                + records.stream().map(RenderedRecord::json).collect(Collectors.joining(","))
                + "],\"next\":" + quote(next) + "}";
            return complete(HttpEntities.create(ContentTypes.APPLICATION_JSON, body));
          });
    })));
  }

  private static int parseLimit(String raw) {
    if (raw == null) {
      return 100;
    }
    try {
      int limit = Integer.parseInt(raw);
      if (limit >= 1 && limit <= MAX_PAGE) {
        return limit;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new ApiException(400, "invalid_limit", "limit must be a whole number from 1 to " + MAX_PAGE);
  }

  private static String quote(String value) {
    try {
      return ProtocolJson.JSON.writeValueAsString(value);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private Route withTenant(String tenantId, java.util.function.Function<Tenant, Route> inner) {
    return onSuccess(tenants.find(tenantId), tenant -> tenant.map(inner).orElseGet(() ->
        error(StatusCodes.NOT_FOUND, "tenant_not_found", "there is no tenant '" + tenantId + "'")));
  }

  private static Route noSuchFile(String fileId) {
    return error(StatusCodes.NOT_FOUND, "file_not_found", "there is no file '" + fileId + "'");
  }
}
