package io.mysimbdp.node.http;

import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import io.mysimbdp.node.batch.FileUploads;
import io.mysimbdp.node.batch.Names;
import io.mysimbdp.node.batch.ResumableUploads;
import io.mysimbdp.node.tenant.TenantRepository;
import io.mysimbdp.protocol.DataFormat;
import io.mysimbdp.protocol.Tenant;
import io.mysimbdp.protocol.Tus;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Resumable uploads under {@code /v1/tenants/{id}/uploads}, following tus 1.0 (core, creation,
 * termination, expiration) so existing tus clients work. Upload-Metadata keys read: {@code filename},
 * {@code category}, {@code contentType} (or the format from the file name's extension), {@code sha256}
 * (the whole file's SHA-256, hex: checked against the bytes at completion, 422 {@code checksum_mismatch}
 * and the upload gone when they differ). The same constraints as a plain upload apply: the declared length
 * up front, the real one as it streams.
 *
 * <p>Duplicates: a file whose SHA-256 matches a live file of the tenant is refused with 409
 * {@code duplicate_file} (the existing file's id in {@code details.fileId} and the
 * {@code Mysimbdp-File-Id} header), nothing kept: at creation when {@code sha256} is sent (before
 * any byte), otherwise by the PATCH that completes the upload (the upload is then gone). The query
 * parameter {@code duplicate=allow} on the creation POST keeps a copy instead.
 *
 * <pre>
 * OPTIONS uploads             tenant  the server's tus capabilities (Tus-Version, Tus-Extension, Tus-Max-Size)
 * POST    uploads?duplicate=  tenant  create an upload (Upload-Length, Upload-Metadata): 201 with its Location and Upload-Expires;
 *                                     409 duplicate_file when metadata sha256 names content the tenant has (unless duplicate=allow)
 * HEAD    uploads/{upload}    tenant  the upload's offset (Upload-Offset, Upload-Length; Upload-Expires while unfinished)
 * GET     uploads/{upload}    tenant  the same, for clients that cannot send HEAD
 * PATCH   uploads/{upload}    tenant  append at Upload-Offset (409 at a wrong offset, 413 past the declared length);
 *                                     answers the new Upload-Expires until the last byte; the last byte's PATCH answers
 *                                     409 duplicate_file for content the tenant has (unless created with duplicate=allow)
 * DELETE  uploads/{upload}    tenant  terminate: the partial upload is removed
 * </pre>
 *
 * <p>Expiration: an unfinished upload not appended to for {@code mysimbdp.batch.upload-expiry}
 * ({@code UPLOAD_EXPIRY}, 24 h) expires at its {@code Upload-Expires} (an RFC 7231 HTTP-date). From
 * then on every request on it is answered 410 Gone ({@code upload_expired}) and it is never
 * completed; a periodic sweep removes its bytes and gives its file slot back, and one expiry later
 * it is forgotten (404, as for an upload that never existed). A completed upload is answered (its
 * full offset and file id) for one expiry after its last byte, then forgotten the same way; its
 * staged file stays.
 */
public final class TusRoutes extends UploadDirectives implements TenantSubRoutes {
  private static final long MEGABYTE = 1024L * 1024L;
  private static final HttpHeader RESUMABLE = RawHeader.create(Tus.RESUMABLE, Tus.VERSION);
  /** RFC 7231's IMF-fixdate (RFC_1123_DATE_TIME would write a one-digit day of month). */
  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);
  private static final scala.concurrent.duration.FiniteDuration PATCH_TIMEOUT =
      scala.concurrent.duration.FiniteDuration.create(1, java.util.concurrent.TimeUnit.HOURS);

  private final TenantRepository tenants;
  private final ResumableUploads uploads;

  public TusRoutes(Authenticator authenticator, long maxControlBodyBytes, TenantRepository tenants, ResumableUploads uploads) {
    super(authenticator, maxControlBodyBytes);
    this.tenants = tenants;
    this.uploads = uploads;
  }

  @Override
  public Route routes(Caller caller, String tenantId) {
    return respondWithHeader(RESUMABLE, () -> concat(
        path("uploads", () -> concat(
            options(() -> withTenant(tenantId, tenant -> complete(HttpResponse.create()
                .withStatus(StatusCodes.NO_CONTENT)
                .addHeader(RawHeader.create("Tus-Version", Tus.VERSION))
                .addHeader(RawHeader.create("Tus-Extension", "creation,termination,expiration"))
                .addHeader(RawHeader.create("Tus-Max-Size", Long.toString(maxBytes(tenant))))))),
            post(() -> tusVersion(() -> create(tenantId))))),
        path(PathMatchers.segment("uploads").slash(PathMatchers.segment()), uploadId -> concat(
            head(() -> uploadStatus(tenantId, uploadId)),
            get(() -> uploadStatus(tenantId, uploadId)),
            patch(() -> tusVersion(() -> append(tenantId, uploadId))),
            delete(() -> tusVersion(() -> onSuccess(uploads.terminate(tenantId, uploadId), gone -> gone
                ? complete(StatusCodes.NO_CONTENT)
                : noSuchUpload(uploadId))))))));
  }

  private Route uploadStatus(String tenantId, String uploadId) {
    return tusVersion(() -> onSuccess(uploads.status(tenantId, uploadId), status -> status
        .map(s -> s.expired() ? uploadExpired(uploadId) : complete(offsetResponse(StatusCodes.OK, s)))
        .orElseGet(() -> noSuchUpload(uploadId))));
  }

  private Route create(String tenantId) {
    return optionalHeaderValueByName(Tus.UPLOAD_LENGTH, lengthHeader -> optionalHeaderValueByName(Tus.UPLOAD_METADATA, metadataHeader ->
        duplicatePolicy(allowDuplicate -> withTenant(tenantId, tenant -> {
          long length = parseLength(lengthHeader);
          Map<String, String> metadata = parseMetadata(metadataHeader.orElse(""));
          String name = Names.fileName(metadata.getOrDefault("filename", "upload"));
          String category = Names.category(metadata.get("category"));
          DataFormat format = formatOf(metadata.get("contentType"), name);
          if (!tenant.constraints().formats().contains(format.id())) {
            return error(StatusCodes.UNSUPPORTED_MEDIA_TYPE, "format_not_allowed",
                "tenant '" + tenantId + "' may upload only " + tenant.constraints().formats() + ", not " + format.id());
          }
          if (length > maxBytes(tenant)) {
            return error(StatusCodes.PAYLOAD_TOO_LARGE, "file_too_large",
                "Upload-Length is " + length + " bytes; the tenant's limit is " + maxBytes(tenant),
                Map.of("limitBytes", maxBytes(tenant)));
          }
          String sha256 = sha256Of(metadata.get("sha256"));
          return answeringDuplicates(
              uploads.create(tenantId, tenant.constraints().maxFiles(), length, new FileUploads.Upload(name, category, format),
                  sha256, allowDuplicate),
              status -> complete(HttpResponse.create()
                  .withStatus(StatusCodes.CREATED)
                  .addHeader(RawHeader.create("Location", "/v1/tenants/" + tenantId + "/uploads/" + status.id()))
                  .addHeader(RawHeader.create(Tus.UPLOAD_OFFSET, "0"))
                  .addHeaders(expiresHeader(status))));
        }))));
  }

  /** The {@code sha256} metadata value: the file's SHA-256 as 64 hex digits (lower-cased), or null when absent. */
  static String sha256Of(String value) {
    if (value == null) {
      return null;
    }
    String hex = value.strip().toLowerCase(Locale.ROOT);
    if (!hex.matches("[0-9a-f]{64}")) {
      throw new ApiException(400, "invalid_metadata", "Upload-Metadata sha256 is the file's SHA-256 as 64 hex digits");
    }
    return hex;
  }

  private Route append(String tenantId, String uploadId) {
    return optionalHeaderValueByName(Tus.UPLOAD_OFFSET, offsetHeader -> extractRequestEntity(entity -> {
      String mediaType = entity.getContentType().mediaType().toString().toLowerCase(Locale.ROOT);
      if (!mediaType.equals(Tus.OFFSET_CONTENT_TYPE)) {
        return error(StatusCodes.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
            "a PATCH carries Content-Type: " + Tus.OFFSET_CONTENT_TYPE + ", not " + mediaType);
      }
      long offset = parseOffset(offsetHeader);
      return withRequestTimeout(PATCH_TIMEOUT, () -> answeringDuplicates(
          uploads.append(tenantId, uploadId, offset, entity.withoutSizeLimit().getDataBytes()),
          status -> complete(offsetResponse(StatusCodes.NO_CONTENT, status))));
    }));
  }

  private static HttpResponse offsetResponse(StatusCode status, ResumableUploads.Status upload) {
    List<HttpHeader> headers = new ArrayList<>(List.of(
        RawHeader.create(Tus.UPLOAD_OFFSET, Long.toString(upload.offset())),
        RawHeader.create(Tus.UPLOAD_LENGTH, Long.toString(upload.length())),
        RawHeader.create("Cache-Control", "no-store")));
    upload.fileId().ifPresent(id -> headers.add(RawHeader.create(Tus.FILE_ID, id)));
    headers.addAll(expiresHeader(upload));
    return HttpResponse.create().withStatus(status).addHeaders(headers);
  }

  /** {@code Upload-Expires} for an upload that can still expire (none once it is complete). */
  private static List<HttpHeader> expiresHeader(ResumableUploads.Status upload) {
    return upload.expires().<List<HttpHeader>>map(at -> List.of(RawHeader.create(Tus.UPLOAD_EXPIRES, httpDate(at)))).orElse(List.of());
  }

  static String httpDate(Instant instant) {
    return HTTP_DATE.format(instant);
  }

  /** Requires {@code Tus-Resumable: 1.0.0}: 412 otherwise, naming the version spoken here. */
  private Route tusVersion(java.util.function.Supplier<Route> inner) {
    return optionalHeaderValueByName(Tus.RESUMABLE, version -> {
      if (version.isEmpty() || !version.get().equals(Tus.VERSION)) {
        return respondWithHeader(RawHeader.create("Tus-Version", Tus.VERSION), () -> error(
            StatusCodes.PRECONDITION_FAILED, "tus_version", "send 'Tus-Resumable: " + Tus.VERSION + "'"));
      }
      return inner.get();
    });
  }

  private static long parseLength(Optional<String> header) {
    if (header.isEmpty()) {
      throw new ApiException(400, "upload_length_required", "send Upload-Length (deferred lengths are not supported)");
    }
    return parseNonNegative(header.get(), Tus.UPLOAD_LENGTH);
  }

  private static long parseOffset(Optional<String> header) {
    if (header.isEmpty()) {
      throw new ApiException(400, "upload_offset_required", "a PATCH carries Upload-Offset");
    }
    return parseNonNegative(header.get(), Tus.UPLOAD_OFFSET);
  }

  private static long parseNonNegative(String value, String name) {
    try {
      long parsed = Long.parseLong(value.trim());
      if (parsed >= 0) {
        return parsed;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new ApiException(400, "invalid_header", name + " must be a whole number of bytes, was '" + value + "'");
  }

  /** tus metadata: comma-separated "key base64value" pairs. */
  static Map<String, String> parseMetadata(String header) {
    Map<String, String> metadata = new HashMap<>();
    if (header.isBlank()) {
      return metadata;
    }
    for (String pair : header.split(",")) {
      String[] parts = pair.trim().split(" ", 2);
      if (parts[0].isEmpty()) {
        continue;
      }
      try {
        metadata.put(parts[0], parts.length == 2 ? new String(Base64.getDecoder().decode(parts[1].trim()), StandardCharsets.UTF_8) : "");
      } catch (IllegalArgumentException e) {
        throw new ApiException(400, "invalid_metadata", "Upload-Metadata value of '" + parts[0] + "' is not base64");
      }
    }
    return metadata;
  }

  private static DataFormat formatOf(String contentType, String name) {
    if (contentType != null && !contentType.isBlank()) {
      return DataFormat.fromMediaType(contentType.split(";")[0].trim()).orElseThrow(() -> new ApiException(415,
          "unsupported_media_type", "contentType must be text/csv, application/x-ndjson or application/json, not " + contentType));
    }
    int dot = name.lastIndexOf('.');
    return Optional.of(dot).filter(d -> d >= 0).flatMap(d -> DataFormat.fromId(name.substring(d + 1)))
        .orElseThrow(() -> new ApiException(415, "unsupported_media_type",
            "name the format: Upload-Metadata contentType, or a file name ending in .csv, .ndjson, .jsonl or .json"));
  }

  private static long maxBytes(Tenant tenant) {
    return tenant.constraints().maxFileSizeMegabytes() * MEGABYTE;
  }

  private Route withTenant(String tenantId, Function<Tenant, Route> inner) {
    return onSuccess(tenants.find(tenantId), tenant -> tenant.map(inner).orElseGet(() ->
        error(StatusCodes.NOT_FOUND, "tenant_not_found", "there is no tenant '" + tenantId + "'")));
  }

  private static Route uploadExpired(String uploadId) {
    return error(StatusCodes.GONE, "upload_expired", "upload '" + uploadId + "' expired (it was not appended to in time); start a new one");
  }

  private static Route noSuchUpload(String uploadId) {
    return error(StatusCodes.NOT_FOUND, "upload_not_found", "there is no upload '" + uploadId + "'");
  }
}
