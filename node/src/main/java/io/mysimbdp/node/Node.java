package io.mysimbdp.node;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Adapter;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.cluster.typed.JoinSeedNodes;
import akka.actor.AddressFromURIString;
import akka.http.javadsl.ServerBinding;
import akka.management.cluster.bootstrap.ClusterBootstrap;
import akka.management.javadsl.AkkaManagement;
import io.mysimbdp.node.balance.LoadBalancer;
import io.mysimbdp.node.balance.TenantEntities;
import io.mysimbdp.node.balance.NodeLoadReporter;
import io.mysimbdp.node.batch.FileUploads;
import io.mysimbdp.node.report.ReportStore;
import io.mysimbdp.node.batch.ResumableUploads;
import io.mysimbdp.node.broker.Broker;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.node.http.ApiServer;
import io.mysimbdp.node.http.Cors;
import io.mysimbdp.node.http.DeadLetterRoutes;
import io.mysimbdp.node.pipeline.DeadLetterReplay;
import io.mysimbdp.node.http.Authenticator;
import io.mysimbdp.node.functions.FunctionService;
import io.mysimbdp.node.http.BatchRoutes;
import io.mysimbdp.node.http.StreamRoutes;
import io.mysimbdp.node.http.FunctionRoutes;
import io.mysimbdp.node.http.RateLimiter;
import io.mysimbdp.node.http.TenantRoutes;
import io.mysimbdp.node.http.ReportRoutes;
import io.mysimbdp.node.http.TusRoutes;
import io.mysimbdp.node.entity.IngestionServices;
import io.mysimbdp.node.entity.NodeReporter;
import io.mysimbdp.node.entity.TenantIngestor;
import io.mysimbdp.node.report.TenantMeters;
import io.mysimbdp.protocol.PerformanceReport;
import akka.actor.typed.Props;
import io.mysimbdp.node.stream.StreamTopology;
import io.mysimbdp.node.tenant.TenantRepository;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Wires one node: cluster membership, management, sharding, the store and broker clients, and the
 * tenant API. {@link Main} calls it, and so do the tests, with their own configuration.
 */
public final class Node {
  private Node() {}

  /** The tenants' entities as the balancer sees them: a type name and a way to start one. */
  private static TenantEntities tenantEntities(ActorSystem<?> system) {
    return new TenantEntities() {
      @Override
      public String typeName() {
        return TenantIngestor.ENTITY_KEY.name();
      }

      @Override
      public void wake(String tenantId) {
        ClusterSharding.get(system).entityRefFor(TenantIngestor.ENTITY_KEY, tenantId).tell(TenantIngestor.Wake.INSTANCE);
      }
    };
  }

  /** Starts this node's parts; answers the tenant API's binding. */
  public static CompletionStage<ServerBinding> init(ActorSystem<?> system) {
    NodeSettings settings = NodeSettings.from(system.settings().config());
    String adminToken = system.settings().config().getString("mysimbdp.admin-token");

    AkkaManagement.get(Adapter.toClassic(system))
        .start()
        .thenAccept(uri -> system.log().info("management (/ready, /alive, /cluster/members, /platform/*, /metrics, /dashboard) on {}", uri));
    joinCluster(system, settings.clusterJoin());
    // The balancer first: an entity started by a message from another node tells it at once.
    ActorRef<LoadBalancer.Command> balancer = LoadBalancer.init(system, tenantEntities(system));

    CoreDms coreDms = CoreDms.get(system);
    Broker.get(system);
    TenantRepository tenants = new TenantRepository(coreDms, settings);
    ensureIndexes(system, "tenants", tenants.ensureIndexes());
    ReportStore reportStore = new ReportStore(coreDms);
    ensureIndexes(system, "report", reportStore.ensureIndexes());
    IngestionServices ingestion = IngestionServices.get(system);
    // The balancer places, wakes and moves every tenant; every node tells it, once per report
    // interval, its own load and the reports of the tenants it hosts.
    ActorRef<NodeReporter.Command> reporter = startNodeReporter(system, reportStore, ingestion, balancer);
    TenantIngestor.init(system, new TenantIngestor.Dependencies(ingestion, balancer, reporter));
    evacuateOnShutdown(system);

    Authenticator authenticator = new Authenticator(adminToken, tenants);
    StreamTopology streamTopology = StreamTopology.get(system);
    TenantRoutes tenantRoutes = new TenantRoutes(system, tenants, authenticator, settings, streamTopology);
    StreamRoutes streamRoutes = new StreamRoutes(system, tenants, authenticator, settings);
    ResumableUploads resumableUploads = new ResumableUploads(system, coreDms, ingestion.staging(), tenants, settings.uploadExpiry());
    BatchRoutes batchRoutes =
        new BatchRoutes(
            system, authenticator, settings.maxControlBodyBytes(), tenants,
            new FileUploads(system, ingestion.staging(), tenants, resumableUploads), ingestion, settings.askTimeout());
    ensureIndexes(system, "upload sweep", resumableUploads.ensureIndexes());
    // Every node sweeps every tenant's expired uploads: they live in the shared store, and the sweep
    // claims each one atomically, so concurrent sweeps on several nodes remove it once.
    akka.actor.Cancellable uploadSweeps = resumableUploads.sweepEvery(settings.uploadSweepInterval());
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceUnbind(), "stop-upload-sweeps", () -> {
      uploadSweeps.cancel();
      return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
    });
    TusRoutes tusRoutes = new TusRoutes(authenticator, settings.maxControlBodyBytes(), tenants, resumableUploads);
    com.typesafe.config.Config functionsConfig = system.settings().config().getConfig("mysimbdp.functions");
    // One bucket per tenant for every call that runs tenant code: function uploads and dry runs, dead-letter replays.
    RateLimiter tenantCodeLimiter = new RateLimiter(RateLimiter.Settings.fromConfig(functionsConfig.getConfig("rate-limit")));
    FunctionRoutes functionRoutes =
        new FunctionRoutes(
            system, authenticator, functionsConfig.getBytes("max-body"), tenants,
            new FunctionService(ingestion.functionStore(), ingestion.categories(), functionsConfig.getInt("test-max-records")),
            tenantCodeLimiter);
    DeadLetterRoutes deadLetterRoutes = new DeadLetterRoutes(authenticator, settings.maxControlBodyBytes(), tenants,
        new DeadLetterReplay(coreDms, ingestion.categories(), ingestion.functionExecutor(), ingestion.writer(), ingestion.deadLetters()),
        tenantCodeLimiter);
    ReportRoutes reportRoutes = new ReportRoutes(system, authenticator, settings, tenants, reportStore);
    return ApiServer.start(
        system,
        settings.httpHost(),
        settings.httpPort(),
        ApiServer.root(tenantRoutes, List.of(batchRoutes, tusRoutes, streamRoutes, functionRoutes, reportRoutes, deadLetterRoutes),
            Cors.fromConfig(system.settings().config().getConfig("mysimbdp.http"))));
  }

  private static ActorRef<NodeReporter.Command> startNodeReporter(
      ActorSystem<?> system, ReportStore reportStore, IngestionServices ingestion, ActorRef<LoadBalancer.Command> balancer) {
    String node = Cluster.get(system).selfMember().address().toString();
    StreamTopology topology = StreamTopology.get(system);
    NodeReporter.Readings readings = new NodeReporter.Readings() {
      @Override
      public CompletionStage<java.util.Map<String, Long>> queueLengths(java.util.Collection<String> tenants) {
        return topology.lags(tenants);
      }

      @Override
      public CompletionStage<Long> batchBacklogBytes(String tenant) {
        return ingestion.batch().jobs().backlogBytes(tenant);
      }

      @Override
      public CompletionStage<List<PerformanceReport.QualityCount>> quality(String tenant) {
        return FunctionService.qualityCounts(ingestion.functionStore(), tenant);
      }
    };
    NodeReporter.Dependencies deps = new NodeReporter.Dependencies(
        node, reportStore::saveAll, readings, balancer, () -> NodeLoadReporter.measure(node), TenantMeters.get(system),
        system.settings().config().getDuration("mysimbdp.reports.interval"));
    ActorRef<NodeReporter.Command> reporter = system.systemActorOf(NodeReporter.create(deps), "node-reporter", Props.empty());
    // The entities stop when their shards hand off; their last reports are stored before the store closes.
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseClusterShutdown(), "store-last-reports", () ->
        AskPattern.<NodeReporter.Command, Done>ask(reporter, NodeReporter.Flush::new, Duration.ofSeconds(5), system.scheduler())
            .exceptionally(failure -> Done.getInstance()));
    return reporter;
  }

  /** Index creation at start-up runs in the background: a store not reachable yet is only logged. */
  private static void ensureIndexes(ActorSystem<?> system, String what, CompletionStage<Void> created) {
    created.whenComplete(
        (ok, failure) -> {
          if (failure != null) {
            system.log().warn("could not create the {} indexes (will work without them until the store is back): {}", what, failure.toString());
          }
        });
  }

  /**
   * Before this node's shards hand off on shutdown, the balancer places its tenants on the other
   * nodes, so each drained tenant starts at once on a chosen node (not wherever it is next needed).
   */
  private static void evacuateOnShutdown(ActorSystem<?> system) {
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeClusterShutdown(),
            "evacuate-tenants",
            () -> {
              String self = Cluster.get(system).selfMember().address().toString();
              return AskPattern.<LoadBalancer.Command, Done>ask(
                      LoadBalancer.proxy(system), replyTo -> new LoadBalancer.Evacuate(self, replyTo), Duration.ofSeconds(5), system.scheduler())
                  .exceptionally(failure -> {
                    system.log().warn("the load balancer did not place this node's tenants elsewhere before shutdown: {}", failure.toString());
                    return Done.getInstance();
                  });
            });
  }

  private static void joinCluster(ActorSystem<?> system, String mode) {
    switch (mode) {
      case "self" -> {
        Cluster cluster = Cluster.get(system);
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
      }
      case "bootstrap" -> ClusterBootstrap.get(Adapter.toClassic(system)).start();
      case "seed-nodes" -> {
        // akka.cluster.seed-nodes joins on its own; SEED_NODES (a comma list) is joined here.
        String seeds = system.settings().config().getString("mysimbdp.cluster.seed-nodes");
        if (!seeds.isBlank()) {
          Cluster.get(system).manager().tell(new JoinSeedNodes(
              java.util.Arrays.stream(seeds.split(",")).map(String::trim).map(AddressFromURIString::parse).toList()));
        }
      }
      default -> throw new IllegalArgumentException(
          "mysimbdp.cluster.join (CLUSTER_JOIN) must be self, seed-nodes or bootstrap, was '" + mode + "'");
    }
  }
}
