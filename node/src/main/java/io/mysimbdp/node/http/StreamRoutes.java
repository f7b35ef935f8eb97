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
import io.mysimbdp.node.ingest.TenantIngestor;
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
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
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
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Stream routes under {@code /v1/tenants/{id}}:
 *
 * <pre>
 * POST /messages             tenant  one JSON record (application/json) or many (application/x-ndjson):
 *                                    202 once the broker confirmed every one; 429/503 + Retry-After
 *                                    when the tenant's queue is full, the tenant over its in-flight
 *                                    quota or the node busy. Optional: X-Message-Id header (the id,
 *                                    or for NDJSON the prefix of "&lt;prefix&gt;-&lt;line&gt;"), ?category=
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
                                                () -> onSuccess(topology.issueCredentials(tenantId), c -> completeJson(StatusCodes.OK, c)))))))));
  }

  // ---- publishing ------------------------------------------------------------------------------

  private Route publish(String tenantId) {
    return parameterOptional(
        "category",
        category ->
            optionalHeaderValueByName(
                MESSAGE_ID_HEADER,
                messageId ->
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
                          byte[] bytes = body.bytes().toArray();
                          return ndjson
                              ? readLines(bytes, lines -> withEnvelopes(tenantId, cat, messageId, lines, false, e -> publish(tenantId, e)))
                              : readOne(bytes, one -> withEnvelopes(tenantId, cat, messageId, List.of(one), true, e -> publish(tenantId, e)));
                        })));
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
                        ? publisher.publish(tenantId, outgoing).thenApply(ok -> Optional.of(completeJson(StatusCodes.ACCEPTED, new PublishReceipt(tenantId, ids.size(), ids))))
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

  /** The envelopes, or why the ids cannot be made (an X-Message-Id prefix too long for the lines). */
  private Route withEnvelopes(
      String tenantId, String category, Optional<String> messageId, List<JsonNode> records, boolean single, Function<List<MessageEnvelope>, Route> inner) {
    Instant now = Instant.now();
    List<MessageEnvelope> envelopes = new ArrayList<>(records.size());
    for (int i = 0; i < records.size(); i++) {
      String id;
      if (messageId.isEmpty()) {
        id = UUID.randomUUID().toString();
      } else {
        id = single ? messageId.get() : messageId.get() + "-" + (i + 1);
      }
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

  private Route readLines(byte[] bytes, Function<List<JsonNode>, Route> inner) {
    String text = new String(bytes, StandardCharsets.UTF_8);
    List<JsonNode> records = new ArrayList<>();
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
    return inner.apply(records);
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
