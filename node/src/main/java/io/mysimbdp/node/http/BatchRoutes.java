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
import java.util.stream.Collectors;
import org.bson.Document;
import org.bson.json.JsonWriterSettings;

/**
 * Batch routes under {@code /v1/tenants/{id}}:
 *
 * <pre>
 * POST   files?name=&amp;category=    upload one file (text/csv, application/x-ndjson, application/json)
 * GET    files                      list staged files with state and counts
 * GET    files/{file}               one file
 * DELETE files/{file}               remove a file that is not being ingested
 * GET    data/{collection}?limit=&amp;after=   page through the tenant's ingested records
 * POST   ingestions                 ingest the listed files ({"files":[...]}) or every staged file: 202 with the job
 * GET    ingestions                 the tenant's recent jobs
 * GET    ingestions/{job}           a job's state, files and counts
 * </pre>
 *
 * <p>{@code data/{collection}} also takes {@code field=&amp;equals=}: only the records whose field
 * equals a JSON value, e.g. a sealed value by its ciphertext ({@link DataFilter}).
 */
public final class BatchRoutes extends ApiDirectives implements TenantSubRoutes {
  private static final long MEGABYTE = 1024L * 1024L;
  private static final scala.concurrent.duration.FiniteDuration UPLOAD_TIMEOUT =
      scala.concurrent.duration.FiniteDuration.create(2, java.util.concurrent.TimeUnit.HOURS);
  private static final int MAX_PAGE = 1000;
  private static final int LIST_LIMIT = 10_000;
  private static final int RECENT_JOBS = 100;
  private static final JsonWriterSettings RELAXED = io.mysimbdp.node.pipeline.SealedBson.RELAXED_JSON; // sealed values as {"$sealed":...}

  private final TenantRepository tenants;
  private final StagingStore staging;
  private final FileUploads uploads;
  private final CoreDms coreDms;
  private final IngestionJobs jobs;
  private final ClusterSharding sharding;

  public BatchRoutes(
      ActorSystem<?> system, Authenticator authenticator, long maxControlBodyBytes, TenantRepository tenants,
      FileUploads uploads, IngestionServices services) {
    super(authenticator, maxControlBodyBytes);
    this.tenants = tenants;
    this.staging = services.staging();
    this.uploads = uploads;
    this.coreDms = services.coreDms();
    this.jobs = services.batch().jobs();
    this.sharding = ClusterSharding.get(system);
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
      List<Document> chosen = new ArrayList<>();
      if (wanted.isEmpty()) {
        files.stream().filter(f -> StagedFileViews.STAGED.equals(meta(f).getString("state"))).forEach(chosen::add);
        if (chosen.isEmpty()) {
          return error(StatusCodes.UNPROCESSABLE_ENTITY, "nothing_to_ingest", "tenant '" + tenantId + "' has no staged files");
        }
      } else {
        for (String id : new LinkedHashSet<>(wanted)) {
          Document file = byId.get(id);
          if (file == null) {
            return error(StatusCodes.NOT_FOUND, "file_not_found", "there is no file '" + id + "'", Map.of("file", id));
          }
          if (StagedFileViews.INGESTING.equals(meta(file).getString("state"))) {
            return error(StatusCodes.CONFLICT, "file_in_use", "file '" + id + "' is being ingested by another job", Map.of("file", id));
          }
          chosen.add(file);
        }
      }
      String jobId = new ObjectId().toHexString();
      List<IngestionJobs.JobFile> jobFiles = chosen.stream()
          .map(f -> new IngestionJobs.JobFile(f.getString("_id"), meta(f).getString("name"), meta(f).getString("category"),
              meta(f).getString("format"), ((Number) f.get("length")).longValue()))
          .toList();
      return onSuccess(
          jobs.create(tenantId, jobId, jobFiles).thenCompose(created -> {
            sharding.entityRefFor(TenantIngestor.ENTITY_KEY, tenantId)
                .tell(new TenantIngestor.ToBatch(new BatchIngestor.JobQueued(jobId)));
            return jobs.view(tenantId, jobId);
          }),
          job -> completeJson(StatusCodes.ACCEPTED, job.orElseThrow()));
    });
  }

  private static Document meta(Document file) {
    return file.get("metadata", Document.class);
  }

  private Route upload(String tenantId) {
    return parameterOptional("name", name -> parameterOptional("category", category ->
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
          return withRequestTimeout(UPLOAD_TIMEOUT, () -> onSuccess(
              uploads.stage(
                  tenantId,
                  tenant.constraints().maxFiles(),
                  maxBytes,
                  new FileUploads.Upload(fileName, cat, format.get()),
                  // The tenant's limit is enforced by the upload itself (UploadLimit).
                  entity.withoutSizeLimit().getDataBytes()),
              file -> completeJson(StatusCodes.CREATED, file)));
        }))));
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
    return onSuccess(staging.findFile(tenantId, fileId), file -> {
      if (file.isEmpty()) {
        return noSuchFile(fileId);
      }
      String state = file.get().get("metadata", Document.class).getString("state");
      if ("ingesting".equals(state)) {
        return error(StatusCodes.CONFLICT, "file_in_use", "file '" + fileId + "' is being ingested; delete it when the job ends");
      }
      return onSuccess(
          staging.delete(tenantId, fileId, 0).thenCompose(done -> tenants.releaseFileSlot(tenantId)),
          done -> complete(StatusCodes.NO_CONTENT));
    });
  }

  private Route dataPage(String tenantId, String rawCollection) {
    return parameterMap(query -> parameterOptional("limit", limitParam -> parameterOptional("after", after -> {
      String collection = TenantCollections.dataCollection(rawCollection);
      int limit = parseLimit(limitParam.orElse(null));
      var filter = DataFilter.withEquals(after.map(a -> Filters.gt("_id", a)).orElse(new Document()), query); // ?field=&equals=
      return onSuccess(
          coreDms.all(coreDms.tenantDatabase(tenantId).getCollection(collection)
              .find(filter).sort(Sorts.ascending("_id")).limit(limit)),
          docs -> {
            String next = docs.size() == limit ? String.valueOf(docs.get(docs.size() - 1).get("_id")) : null;
            String body = "{\"records\":["
                + docs.stream().map(d -> d.toJson(RELAXED)).collect(Collectors.joining(","))
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
