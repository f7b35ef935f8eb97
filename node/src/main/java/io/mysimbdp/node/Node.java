package io.mysimbdp.node;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.cluster.typed.JoinSeedNodes;
import akka.actor.AddressFromURIString;
import akka.http.javadsl.ServerBinding;
import akka.management.cluster.bootstrap.ClusterBootstrap;
import akka.management.javadsl.AkkaManagement;
import io.mysimbdp.node.batch.FileUploads;
import io.mysimbdp.node.batch.ResumableUploads;
import io.mysimbdp.node.broker.Broker;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.node.http.ApiServer;
import io.mysimbdp.node.http.Authenticator;
import io.mysimbdp.node.functions.FunctionService;
import io.mysimbdp.node.http.BatchRoutes;
import io.mysimbdp.node.http.StreamRoutes;
import io.mysimbdp.node.http.FunctionRoutes;
import io.mysimbdp.node.http.TenantRoutes;
import io.mysimbdp.node.http.TusRoutes;
import io.mysimbdp.node.ingest.IngestionServices;
import io.mysimbdp.node.ingest.TenantIngestor;
import io.mysimbdp.node.ingest.TenantWaker;
import io.mysimbdp.node.stream.StreamTopology;
import io.mysimbdp.node.tenant.TenantRepository;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Wires one node: cluster membership, management, sharding, the store and broker clients, and the
 * tenant API. {@link Main} calls it, and so do the tests, with their own configuration.
 */
public final class Node {
  private Node() {}

  /** Starts this node's parts; answers the tenant API's binding. */
  public static CompletionStage<ServerBinding> init(ActorSystem<?> system) {
    NodeSettings settings = NodeSettings.from(system.settings().config());
    String adminToken = system.settings().config().getString("mysimbdp.admin-token");

    AkkaManagement.get(Adapter.toClassic(system))
        .start()
        .thenAccept(uri -> system.log().info("management (/ready, /alive, /cluster/members) on {}", uri));
    joinCluster(system, settings.clusterJoin());
    TenantIngestor.init(system);

    CoreDms coreDms = CoreDms.get(system);
    Broker.get(system);
    TenantRepository tenants = new TenantRepository(coreDms, settings);
    tenants
        .ensureIndexes()
        .whenComplete(
            (ok, failure) -> {
              if (failure != null) {
                system.log().warn("could not create the tenants indexes (will work without them until the store is back): {}", failure.toString());
              }
            });

    TenantWaker.init(system, tenants, settings.wakeInterval());

    Authenticator authenticator = new Authenticator(adminToken, tenants);
    StreamTopology streamTopology = StreamTopology.get(system);
    TenantRoutes tenantRoutes = new TenantRoutes(system, tenants, authenticator, settings, streamTopology);
    StreamRoutes streamRoutes = new StreamRoutes(system, tenants, authenticator, settings);
    IngestionServices ingestion = IngestionServices.get(system);
    BatchRoutes batchRoutes =
        new BatchRoutes(
            system, authenticator, settings.maxControlBodyBytes(), tenants,
            new FileUploads(system, ingestion.staging(), tenants), ingestion);
    TusRoutes tusRoutes =
        new TusRoutes(
            authenticator, settings.maxControlBodyBytes(), tenants,
            new ResumableUploads(system, coreDms, ingestion.staging(), tenants));
    com.typesafe.config.Config functionsConfig = system.settings().config().getConfig("mysimbdp.functions");
    FunctionRoutes functionRoutes =
        new FunctionRoutes(
            system, authenticator, functionsConfig.getBytes("max-body"), tenants,
            new FunctionService(ingestion.functionStore(), ingestion.categories(), functionsConfig.getInt("test-max-records")));
    return ApiServer.start(
        system,
        settings.httpHost(),
        settings.httpPort(),
        ApiServer.root(tenantRoutes, List.of(batchRoutes, tusRoutes, streamRoutes, functionRoutes)));
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
