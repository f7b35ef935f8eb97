package io.mysimbdp.node.http;

import akka.actor.typed.ActorSystem;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.EntityRef;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.Route;
import akka.pattern.StatusReply;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.mysimbdp.node.NodeSettings;
import io.mysimbdp.node.entity.TenantIngestor;
import io.mysimbdp.node.report.TenantMeter;
import io.mysimbdp.node.stream.StreamMessages;
import io.mysimbdp.node.stream.NodeStreams;
import io.mysimbdp.node.stream.StreamIngestor;
import io.mysimbdp.node.stream.StreamPublisher;
import io.mysimbdp.node.stream.StreamSettings;
import io.mysimbdp.node.stream.StreamTopology;
import io.mysimbdp.node.tenant.TenantRepository;
import io.mysimbdp.protocol.MessageBatch;
import io.mysimbdp.protocol.MessageEnvelope;
import io.mysimbdp.protocol.ProtocolJson;
import io.mysimbdp.protocol.PublishReceipt;
import io.mysimbdp.protocol.StreamStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Stream routes under {@code /v1/tenants/{id}}:
 *
 * <pre>
 * POST /messages             tenant  one JSON record (application/json) or many (application/x-ndjson):
 *                                    202 once the broker confirmed every one; 429/503 + Retry-After
 *                                    when the tenant's queue is full, the tenant over its in-flight
 *                                    quota or the node busy. Optional: X-Message-Id header (the id,
 *                                    or for NDJSON the prefix of "&lt;prefix&gt;-&lt;n&gt;", n the record's
 *                                    number), or Idempotency-Key header (1-200 characters of
 *                                    A-Z a-z 0-9 . _ : @ -; the ids become "&lt;key&gt;" for one JSON record,
 *                                    "&lt;key&gt;-&lt;line&gt;" for NDJSON, line the record's line number;
 *                                    a key over 100 characters is replaced by "sha256.&lt;its hex
 *                                    digest&gt;" in them): the same request sent again, whole or after
 *                                    a 429/503, stores nothing twice; ?category=
 * POST /stream/start         tenant  start consuming (remembered: restarts with the entity); 503
 *                                    node_at_capacity + Retry-After when the node takes no more streams
 * POST /stream/stop          tenant  stop, after the in-flight messages are stored and acked
 * GET  /stream               tenant  state, consumed, stored, duplicates, failed, lag (records waiting), latency,
 *                                    prefetch (messages the consumer takes ahead now)
 * POST /stream/credentials   admin   a new password for the tenant's broker user
 * </pre>
 */
public final class StreamRoutes extends ApiDirectives implements TenantSubRoutes {
  public static final String MESSAGE_ID_HEADER = "X-Message-Id";
  public static final String IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";
  static final int MAX_IDEMPOTENCY_KEY_LENGTH = 200;
  /** Longest key used as it is in the message ids; a longer one is replaced by its digest. */
  static final int MAX_VERBATIM_KEY_LENGTH = 100;
  private static final Pattern IDEMPOTENCY_KEY = Pattern.compile("[A-Za-z0-9._:@-]{1," + MAX_IDEMPOTENCY_KEY_LENGTH + "}");
  private static final String NDJSON = "application/x-ndjson";

  private final ActorSystem<?> system;
  private final TenantRepository tenants;
  private final StreamTopology topology;
  private final StreamPublisher publisher;
  private final StreamSettings settings;
  private final Duration askTimeout;
  /** Tenants known to exist whose topology this node declared: publishing skips the checks. */
  private final Set<String> ready = ConcurrentHashMap.newKeySet();

  public StreamRoutes(ActorSystem<?> system, TenantRepository tenants, Authenticator authenticator, NodeSettings nodeSettings) {
    super(authenticator, nodeSettings.maxControlBodyBytes());
    this.system = system;
    this.tenants = tenants;
    this.topology = StreamTopology.get(system);
    this.publisher = StreamPublisher.get(system);
    // A message routed to no queue: the tenant's queue was deleted. The next publish declares it
    // again, and the tenant's stream starts again (its consumer may wait on the deleted queue).
    publisher.onNoQueue(exchange -> topology.settings().tenantOfExchange(exchange).ifPresent(tenantId -> {
      topology.forget(tenantId);
      ready.remove(tenantId);
      entity(tenantId).tell(new TenantIngestor.ToStream(StreamIngestor.QueueMissing.INSTANCE));
    }));
    this.settings = topology.settings();
    this.askTimeout = nodeSettings.askTimeout();
  }

  @Override
  public Route routes(Caller caller, String tenantId) {
    return concat(
        path("messages", () -> post(() -> publish(tenantId))),
        pathPrefix(
            "stream",
            () ->
                concat(
                    pathEndOrSingleSlash(() -> get(() -> existing(tenantId, () -> status(tenantId)))),
                    path("start", () -> post(() -> existing(tenantId, () -> control(tenantId, true)))),
                    path("stop", () -> post(() -> existing(tenantId, () -> control(tenantId, false)))),
                    path(
                        "credentials",
                        () ->
                            post(
                                () ->
                                    adminOnly(
                                        caller,
                                        () ->
                                            existing(
                                                tenantId,
                                                () -> onSuccess(
                                                    // Credentials to publish to an exchange: the exchange exists from now.
                                                    topology.ensure(tenantId).thenCompose(ok -> topology.issueCredentials(tenantId)),
                                                    c -> completeJson(StatusCodes.OK, c)))))))));
  }

  // ---- publishing ------------------------------------------------------------------------------

  private Route publish(String tenantId) {
    return parameterOptional(
        "category",
        category ->
            optionalHeaderValueByName(
                MESSAGE_ID_HEADER,
                messageId ->
                    optionalHeaderValueByName(
                        IDEMPOTENCY_KEY_HEADER,
                        idempotencyKey ->
                        strictBody(
                            settings.maxPublishBody(),
                            body -> {
                              String mediaType = body.contentType().mediaType().toString().toLowerCase(Locale.ROOT);
                              boolean ndjson = mediaType.equals(NDJSON);
                              if (!ndjson && !mediaType.equals("application/json")) {
                                return error(
                                    StatusCodes.UNSUPPORTED_MEDIA_TYPE,
                                    "unsupported_media_type",
                                    "this route reads application/json (one record) or " + NDJSON + " (one record a line), not " + mediaType);
                              }
                              String cat = category.orElse(MessageEnvelope.DEFAULT_CATEGORY);
                              Optional<String> categoryProblem = MessageEnvelope.categoryProblem(cat);
                              if (categoryProblem.isPresent()) {
                                return error(StatusCodes.BAD_REQUEST, "invalid_category", categoryProblem.get(), Map.of("parameter", "category"));
                              }
                              if (messageId.isPresent()) {
                                Optional<String> idProblem = MessageEnvelope.idProblem(messageId.get());
                                if (idProblem.isPresent()) {
                                  return error(StatusCodes.BAD_REQUEST, "invalid_message_id", idProblem.get(), Map.of("header", MESSAGE_ID_HEADER));
                                }
                              }
                              if (idempotencyKey.isPresent()) {
                                Optional<String> keyProblem = idempotencyKeyProblem(idempotencyKey.get());
                                if (keyProblem.isPresent()) {
                                  return error(StatusCodes.BAD_REQUEST, "invalid_idempotency_key", keyProblem.get(), Map.of("header", IDEMPOTENCY_KEY_HEADER));
                                }
                                if (messageId.isPresent()) {
                                  return error(
                                      StatusCodes.BAD_REQUEST,
                                      "conflicting_headers",
                                      "send " + MESSAGE_ID_HEADER + " or " + IDEMPOTENCY_KEY_HEADER + ", not both: each decides the message ids",
                                      Map.of("header", IDEMPOTENCY_KEY_HEADER));
                                }
                              }
                              byte[] bytes = body.bytes().toArray();
                              Optional<String> keyBase = idempotencyKey.map(StreamRoutes::idempotentIdBase);
                              return ndjson
                                  ? readLines(bytes, (lines, lineNumbers) -> withEnvelopes(tenantId, cat, lines, i -> ndjsonId(messageId, keyBase, i, lineNumbers.get(i)), e -> publish(tenantId, e)))
                                  : readOne(bytes, one -> withEnvelopes(tenantId, cat, List.of(one), i -> messageId.or(() -> keyBase), e -> publish(tenantId, e)));
                            }))));
  }

  private Route publish(String tenantId, List<MessageEnvelope> envelopes) {
    List<StreamPublisher.Outgoing> outgoing;
    try {
      outgoing = encode(tenantId, envelopes);
    } catch (JsonProcessingException e) {
      return error(StatusCodes.BAD_REQUEST, "malformed_body", "the records could not be encoded: " + e.getOriginalMessage());
    }
    List<String> ids = envelopes.stream().map(MessageEnvelope::id).toList();
    CompletionStage<Optional<Route>> published =
        whenReady(tenantId)
            .thenCompose(
                exists ->
                    exists
                        ? publisher.publish(tenantId, outgoing).thenApply(ok -> {
                            // The tenant's queue grew: its node's reporter reads it even while nothing is consumed.
                            entity(tenantId).tell(TenantIngestor.MessagesPublished.INSTANCE);
                            return Optional.of(completeJson(StatusCodes.ACCEPTED, new PublishReceipt(tenantId, ids.size(), ids)));
                          })
                        : CompletableFuture.completedFuture(Optional.<Route>empty()));
    return onComplete(
        published,
        result -> {
          if (result.isSuccess()) {
            return result.get().orElseGet(() -> noSuchTenant(tenantId));
          }
          Throwable e = result.failed().get();
          Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
          if (cause instanceof StreamPublisher.Refused refused) {
            if (refused.reason == StreamPublisher.Refused.Reason.BROKER_UNAVAILABLE) {
              topology.forget(tenantId);
              ready.remove(tenantId);
            }
            return retryLater(StatusCodes.get(refused.reason.status), refused.reason.code, refused.getMessage());
          }
          system.log().warn("publishing for tenant {} failed: {}", tenantId, cause.toString());
          ready.remove(tenantId);
          return retryLater(StatusCodes.SERVICE_UNAVAILABLE, "broker_unavailable", "the broker is not available; retry later");
        });
  }

  private Route retryLater(StatusCode status, String code, String message) {
    return retryLater(status, code, message, settings.retryAfterSeconds(), Map.of());
  }

  /** Whether the tenant exists; its topology declared on this node first. */
  private CompletionStage<Boolean> whenReady(String tenantId) {
    if (ready.contains(tenantId)) {
      return CompletableFuture.completedFuture(true);
    }
    return tenants
        .find(tenantId)
        .thenCompose(
            tenant -> {
              if (tenant.isEmpty()) {
                return CompletableFuture.completedFuture(false);
              }
              return topology
                  .ensure(tenantId)
                  .thenApply(
                      ok -> {
                        ready.add(tenantId);
                        return true;
                      });
            });
  }

  /** Why {@code key} cannot be an {@value #IDEMPOTENCY_KEY_HEADER}, or empty when it can. */
  static Optional<String> idempotencyKeyProblem(String key) {
    if (IDEMPOTENCY_KEY.matcher(key).matches()) {
      return Optional.empty();
    }
    return Optional.of("an " + IDEMPOTENCY_KEY_HEADER + " is 1-" + MAX_IDEMPOTENCY_KEY_LENGTH + " characters of A-Z a-z 0-9 . _ : @ -");
  }

  /**
   * What a request's message ids are made of: the key itself, or for a key too long to leave room
   * for a line number in a message id, {@code sha256.<hex digest>} (a valid id of 71 characters).
   */
  static String idempotentIdBase(String key) {
    if (key.length() <= MAX_VERBATIM_KEY_LENGTH) {
      return key;
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return "sha256." + HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** The id of the {@code index}th record (0-based) of an NDJSON request, at {@code line} (1-based). */
  private static Optional<String> ndjsonId(Optional<String> messageId, Optional<String> keyBase, int index, int line) {
    if (messageId.isPresent()) {
      return Optional.of(messageId.get() + "-" + (index + 1));
    }
    return keyBase.map(base -> base + "-" + line);
  }

  /**
   * The envelopes, or why the ids cannot be made (an X-Message-Id prefix too long for the lines).
   * {@code idFor} answers a record's id from the request, or empty for a random one.
   */
  private Route withEnvelopes(
      String tenantId, String category, List<JsonNode> records, IntFunction<Optional<String>> idFor, Function<List<MessageEnvelope>, Route> inner) {
    Instant now = Instant.now();
    List<MessageEnvelope> envelopes = new ArrayList<>(records.size());
    for (int i = 0; i < records.size(); i++) {
      String id = idFor.apply(i).orElseGet(() -> UUID.randomUUID().toString());
      Optional<String> problem = MessageEnvelope.idProblem(id);
      if (problem.isPresent()) {
        return error(StatusCodes.BAD_REQUEST, "invalid_message_id", "message id '" + id + "': " + problem.get(), Map.of("header", MESSAGE_ID_HEADER));
      }
      envelopes.add(new MessageEnvelope(tenantId, id, category, records.get(i), now));
    }
    return inner.apply(envelopes);
  }

  private List<StreamPublisher.Outgoing> encode(String tenantId, List<MessageEnvelope> envelopes) throws JsonProcessingException {
    if (envelopes.size() == 1) {
      MessageEnvelope one = envelopes.get(0);
      return List.of(new StreamPublisher.Outgoing(ProtocolJson.JSON.writeValueAsBytes(one), MessageEnvelope.CONTENT_TYPE, one.id(), 1));
    }
    List<StreamPublisher.Outgoing> outgoing = new ArrayList<>();
    Instant now = Instant.now();
    for (int from = 0; from < envelopes.size(); from += settings.publishBatchSize()) {
      List<MessageEnvelope> part = envelopes.subList(from, Math.min(envelopes.size(), from + settings.publishBatchSize()));
      MessageBatch batch = new MessageBatch(tenantId, now, part);
      outgoing.add(new StreamPublisher.Outgoing(ProtocolJson.JSON.writeValueAsBytes(batch), MessageBatch.CONTENT_TYPE, part.get(0).id(), part.size()));
    }
    return outgoing;
  }

  private Route readOne(byte[] bytes, Function<JsonNode, Route> inner) {
    if (bytes.length == 0) {
      return error(StatusCodes.BAD_REQUEST, "malformed_body", "the request body is empty");
    }
    JsonNode node;
    try {
      node = ProtocolJson.JSON.readTree(bytes);
    } catch (JsonProcessingException e) {
      return error(StatusCodes.BAD_REQUEST, "malformed_body", "the body is not JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      return error(StatusCodes.BAD_REQUEST, "malformed_body", "the body could not be read: " + e.getMessage());
    }
    if (node == null || !node.isObject()) {
      return error(StatusCodes.BAD_REQUEST, "not_an_object", "a record must be a JSON object, not " + StreamMessages.kind(node));
    }
    return inner.apply(node);
  }

  /** The records of an NDJSON body and the line number (1-based) of each. */
  private Route readLines(byte[] bytes, BiFunction<List<JsonNode>, List<Integer>, Route> inner) {
    String text = new String(bytes, StandardCharsets.UTF_8);
    List<JsonNode> records = new ArrayList<>();
    List<Integer> lineNumbers = new ArrayList<>();
    int lineNumber = 0;
    for (String line : text.split("\n", -1)) {
      lineNumber++;
      String trimmed = line.strip();
      if (trimmed.isEmpty()) {
        continue;
      }
      JsonNode node;
      try {
        node = ProtocolJson.JSON.readTree(trimmed);
      } catch (JsonProcessingException e) {
        return error(StatusCodes.BAD_REQUEST, "malformed_body", "line " + lineNumber + " is not JSON: " + e.getOriginalMessage(), Map.of("line", lineNumber));
      }
      if (node == null || !node.isObject()) {
        return error(StatusCodes.BAD_REQUEST, "not_an_object", "line " + lineNumber + " must be a JSON object, not " + StreamMessages.kind(node), Map.of("line", lineNumber));
      }
      records.add(node);
      lineNumbers.add(lineNumber);
      if (records.size() > settings.maxMessagesPerRequest()) {
        return error(
            StatusCodes.PAYLOAD_TOO_LARGE,
            "too_many_messages",
            "one request carries at most " + settings.maxMessagesPerRequest() + " messages",
            Map.of("limit", settings.maxMessagesPerRequest()));
      }
    }
    if (records.isEmpty()) {
      return error(StatusCodes.BAD_REQUEST, "malformed_body", "the request body has no records");
    }
    return inner.apply(records, lineNumbers);
  }


  // ---- the consumer ----------------------------------------------------------------------------

  private EntityRef<TenantIngestor.Command> entity(String tenantId) {
    return ClusterSharding.get(system).entityRefFor(TenantIngestor.ENTITY_KEY, tenantId);
  }

  private Route control(String tenantId, boolean start) {
    Duration timeout = start ? askTimeout : askTimeout.plus(settings.drainTimeout());
    CompletionStage<StreamIngestor.Status> answer =
        entity(tenantId)
            .askWithStatus(
                (akka.actor.typed.ActorRef<StatusReply<StreamIngestor.Status>> replyTo) ->
                    new TenantIngestor.ToStream(start ? new StreamIngestor.Start(replyTo) : new StreamIngestor.Stop(replyTo)),
                timeout);
    return onComplete(
        answer,
        result -> {
          if (result.isSuccess()) {
            return withLag(tenantId, result.get());
          }
          Throwable e = result.failed().get();
          Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
          if (cause instanceof StatusReply.ErrorMessage refused && refused.getMessage().startsWith(NodeStreams.AT_CAPACITY)) {
            return retryLater(StatusCodes.SERVICE_UNAVAILABLE, "node_at_capacity", refused.getMessage().substring(NodeStreams.AT_CAPACITY.length()));
          }
          if (cause instanceof StatusReply.ErrorMessage refused) {
            return error(StatusCodes.CONFLICT, "stream_busy", refused.getMessage());
          }
          return complete(ApiErrors.responseFor(cause));
        });
  }

  private Route status(String tenantId) {
    return onSuccess(
        entity(tenantId).ask((akka.actor.typed.ActorRef<StreamIngestor.Status> replyTo) -> new TenantIngestor.ToStream(new StreamIngestor.GetStatus(replyTo)), askTimeout),
        status -> withLag(tenantId, status));
  }

  /** The status with the queue's length in records (its messages times the records each lately carried). */
  private Route withLag(String tenantId, StreamIngestor.Status s) {
    return onSuccess(
        topology.lag(tenantId).thenApply(messages -> TenantMeter.queuedRecords(messages, s.recordsPerMessage())),
        lag ->
            completeJson(
                StatusCodes.OK,
                new StreamStatus(
                    tenantId, s.state(), s.node(), settings.queue(tenantId), s.consumed(), s.stored(), s.duplicates(), s.failed(), lag,
                    s.latencyP50Millis(), s.latencyP99Millis(), s.lastError(), s.prefetch() == 0 ? null : s.prefetch())));
  }

  private Route existing(String tenantId, Supplier<Route> inner) {
    if (ready.contains(tenantId)) {
      return inner.get();
    }
    return onSuccess(tenants.find(tenantId), tenant -> tenant.isPresent() ? inner.get() : noSuchTenant(tenantId));
  }

  private static Route noSuchTenant(String id) {
    return error(StatusCodes.NOT_FOUND, "tenant_not_found", "there is no tenant '" + id + "'");
  }
}
