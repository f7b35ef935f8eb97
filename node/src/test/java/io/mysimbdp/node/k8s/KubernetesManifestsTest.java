package io.mysimbdp.node.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The manifests in {@code k8s/} parse with the typed Kubernetes model, and what they say agrees
 * with what the node does: the labels discovery selects on, the ports and probe paths the node's
 * configuration binds, the account bound to the role discovery needs, the environment the node
 * reads, the Secrets that exist. Checked on the base's files always, and on what
 * {@code kubectl kustomize} renders for the base, the production overlay and {@code k8s/} itself
 * (the base with the dashboard) when kubectl is here.
 */
class KubernetesManifestsTest {
  private static final String NODE = "mysimbdp";
  /** Time beyond the hand-off for the rest of coordinated shutdown. */
  private static final Duration SHUTDOWN_MARGIN = Duration.ofSeconds(30);

  static Stream<Manifests> manifests() {
    List<Manifests> all = new ArrayList<>(List.of(Manifests.base()));
    Manifests.rendered("base").ifPresent(all::add);
    Manifests.rendered("overlays/production").ifPresent(all::add);
    Manifests.rendered("").ifPresent(all::add); // k8s/ itself: the base and the dashboard
    return all.stream();
  }

  // ---- the node's Deployment against the node's configuration ----

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void theDeploymentRunsTheKubernetesConfigurationWithEveryPortItBinds(Manifests m) {
    Container node = nodeContainer(m);
    Config config = nodeConfig(m);
    assertEquals("bootstrap", config.getString("mysimbdp.cluster.join"));
    assertEquals("kubernetes-api", config.getString("akka.management.cluster.bootstrap.contact-point-discovery.discovery-method"));

    ContainerPort http = port(node, "http");
    ContainerPort management = port(node, "management");
    ContainerPort remoting = port(node, "remoting");
    assertEquals(config.getInt("mysimbdp.http.port"), http.getContainerPort(), "tenant API port");
    assertEquals(config.getInt("akka.management.http.port"), management.getContainerPort(), "management port");
    assertEquals(config.getInt("akka.remote.artery.canonical.port"), remoting.getContainerPort(), "remoting port");
    // Every address is the pod's own; the node binds all interfaces inside its pod.
    assertEquals("10.1.2.3", config.getString("akka.remote.artery.canonical.hostname"));
    assertEquals("10.1.2.3", config.getString("akka.management.http.hostname"));
    assertEquals("0.0.0.0", config.getString("akka.management.http.bind-hostname"));
    assertEquals("0.0.0.0", config.getString("mysimbdp.http.host"));
    assertTrue(config.getBoolean("akka.management.http.route-providers-read-only"), "management routes are read-only");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void probesAskTheManagementPortForReadyAndAlive(Manifests m) {
    Container node = nodeContainer(m);
    Config config = nodeConfig(m);
    String ready = "/" + config.getString("akka.management.health-checks.readiness-path");
    String alive = "/" + config.getString("akka.management.health-checks.liveness-path");
    assertEquals("/ready", ready);
    assertEquals("/alive", alive);
    int managementPort = config.getInt("akka.management.http.port");

    HTTPGetAction readiness = node.getReadinessProbe().getHttpGet();
    assertEquals(ready, readiness.getPath());
    assertEquals(managementPort, portNumber(node, readiness.getPort()), "readiness probe port");
    HTTPGetAction liveness = node.getLivenessProbe().getHttpGet();
    assertEquals(alive, liveness.getPath());
    assertEquals(managementPort, portNumber(node, liveness.getPort()), "liveness probe port");
    if (node.getStartupProbe() != null) {
      HTTPGetAction startup = node.getStartupProbe().getHttpGet();
      assertEquals(alive, startup.getPath(), "the startup probe must not wait for the whole cluster");
      assertEquals(managementPort, portNumber(node, startup.getPort()));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void discoveryFindsThePodsOfTheDeployment(Manifests m) {
    Deployment deployment = m.one(Deployment.class, NODE);
    Config config = nodeConfig(m);
    Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();

    String serviceName = config.getString("akka.management.cluster.bootstrap.contact-point-discovery.service-name");
    String selector = String.format(config.getString("akka.discovery.kubernetes-api.pod-label-selector"), serviceName);
    assertEquals("app=mysimbdp", selector);
    assertSelects(labelSelector(selector), podLabels, "kubernetes-api discovery");
    assertSelects(deployment.getSpec().getSelector().getMatchLabels(), podLabels, "the Deployment's selector");
    assertEquals(deployment.getMetadata().getNamespace(), config.getString("akka.discovery.kubernetes-api.pod-namespace"),
        "discovery lists pods in the Deployment's namespace (POD_NAMESPACE)");

    // Contact points are the container ports of this name.
    String portName = config.getString("akka.management.cluster.bootstrap.contact-point-discovery.port-name");
    assertEquals(config.getInt("akka.management.http.port"), port(nodeContainer(m), portName).getContainerPort());

    // A new cluster forms only with a majority of the replicas, never below what autoscaling keeps.
    int required = config.getInt("akka.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr");
    int replicas = deployment.getSpec().getReplicas();
    assertTrue(required > replicas / 2, "required-contact-point-nr " + required + " is a majority of " + replicas);
    assertTrue(required <= replicas, "required-contact-point-nr " + required + " <= replicas " + replicas);
    assertTrue(required <= autoscaler(m).minReplicas(), "required-contact-point-nr <= the autoscaler's minimum");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void theServiceAccountMayListPodsAndNothingMore(Manifests m) {
    Deployment deployment = m.one(Deployment.class, NODE);
    String account = deployment.getSpec().getTemplate().getSpec().getServiceAccountName();
    assertNotNull(account, "the node runs under its own service account");
    assertFalse(Boolean.FALSE.equals(deployment.getSpec().getTemplate().getSpec().getAutomountServiceAccountToken()),
        "discovery needs the account's token mounted");
    m.one(io.fabric8.kubernetes.api.model.ServiceAccount.class, account);

    String namespace = deployment.getMetadata().getNamespace();
    List<RoleBinding> bindings = m.all(RoleBinding.class).stream()
        .filter(b -> b.getSubjects().stream().anyMatch(s -> s.getKind().equals("ServiceAccount")
            && s.getName().equals(account) && namespace.equals(s.getNamespace())))
        .toList();
    assertEquals(1, bindings.size(), "one RoleBinding names " + namespace + "/" + account);
    RoleBinding binding = bindings.get(0);
    assertEquals("Role", binding.getRoleRef().getKind());
    Role role = m.one(Role.class, binding.getRoleRef().getName());
    assertEquals(namespace, role.getMetadata().getNamespace());
    boolean readsPods = false;
    for (PolicyRule rule : role.getRules()) {
      assertEquals(List.of(""), rule.getApiGroups(), "only the core API group");
      assertEquals(List.of("pods"), rule.getResources(), "only pods");
      assertEquals(Set.of("get", "watch", "list"), new HashSet<>(rule.getVerbs()), "only reading");
      readsPods = true;
    }
    assertTrue(readsPods);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void everyEnvironmentVariableIsOneTheNodeReads(Manifests m) throws IOException {
    Container node = nodeContainer(m);
    Set<String> read = environmentTheNodeReads();
    Map<String, EnvVar> env = new LinkedHashMap<>();
    Set<String> referenced = new HashSet<>();
    for (EnvVar var : node.getEnv()) {
      if (var.getValue() != null) {
        Matcher reference = Pattern.compile("\\$\\(([A-Za-z0-9_]+)\\)").matcher(var.getValue());
        while (reference.find()) {
          assertTrue(env.containsKey(reference.group(1)),
              var.getName() + " uses $(" + reference.group(1) + "), which must be defined before it");
          referenced.add(reference.group(1));
        }
      }
      assertTrue(env.put(var.getName(), var) == null, "defined twice: " + var.getName());
    }
    for (String name : env.keySet()) {
      assertTrue(read.contains(name) || referenced.contains(name) || name.equals("JAVA_TOOL_OPTIONS"),
          name + " is neither read by the node nor used by another variable (a typo?); the node reads " + new TreeSet<>(read));
    }
    for (String name : List.of("POD_IP", "POD_NAMESPACE", "REQUIRED_CONTACT_POINT_NR", "MONGODB_URI", "AMQP_URI", "MYSIMBDP_ADMIN_TOKEN_FILE")) {
      assertTrue(env.containsKey(name), "the Deployment sets " + name);
    }
    assertEquals("status.podIP", env.get("POD_IP").getValueFrom().getFieldRef().getFieldPath());
    assertEquals("metadata.namespace", env.get("POD_NAMESPACE").getValueFrom().getFieldRef().getFieldPath());
    assertTrue(env.get("JAVA_TOOL_OPTIONS").getValue().contains("-Dconfig.resource=kubernetes.conf"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void theNodeWritesOnlyToVolumesAndReadsTheAdminTokenFromASecret(Manifests m) {
    Deployment deployment = m.one(Deployment.class, NODE);
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    Container node = nodeContainer(m);
    Config config = nodeConfig(m);
    assertTrue(node.getSecurityContext().getReadOnlyRootFilesystem(), "read-only root file system");

    Map<String, Volume> volumes = new HashMap<>();
    pod.getVolumes().forEach(v -> volumes.put(v.getName(), v));
    String dataDir = config.getString("mysimbdp.data-dir");
    VolumeMount data = mountFor(node, dataDir);
    assertNotNull(volumes.get(data.getName()).getEmptyDir(), "DATA_DIR " + dataDir + " is on an emptyDir");
    assertFalse(Boolean.TRUE.equals(data.getReadOnly()));
    VolumeMount tmp = mountFor(node, "/tmp/hsperfdata");
    assertNotNull(volumes.get(tmp.getName()).getEmptyDir(), "the JVM's /tmp is an emptyDir");

    String tokenFile = config.getString("mysimbdp.admin-token-file");
    VolumeMount tokenMount = mountFor(node, tokenFile);
    Volume tokenVolume = volumes.get(tokenMount.getName());
    assertNotNull(tokenVolume.getSecret(), "the admin token comes from a Secret");
    String fileName = Path.of(tokenMount.getMountPath()).relativize(Path.of(tokenFile)).toString();
    assertTrue(tokenVolume.getSecret().getItems() == null
        || tokenVolume.getSecret().getItems().stream().anyMatch(i -> i.getPath().equals(fileName)),
        "the Secret volume holds " + fileName);
    assertFalse(config.hasPath("mysimbdp.admin-token"), "no admin token in plain configuration");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void theNodeUsesTheMongoReplicaSetAndTheBrokerDeployedBesideIt(Manifests m) {
    Config config = nodeConfig(m);
    URI mongo = URI.create(config.getString("mysimbdp.mongodb.uri").replaceFirst("^mongodb://[^@]*@", "mongodb://"));
    StatefulSet mongoSet = m.one(StatefulSet.class, "mongo");
    Service mongoService = headlessServiceOf(m, mongoSet);
    int mongoPort = servicePortTarget(mongoSet, mongoService.getSpec().getPorts().get(0));
    List<String> members = new ArrayList<>();
    for (int i = 0; i < mongoSet.getSpec().getReplicas(); i++) {
      members.add("mongo-" + i + "." + mongoService.getMetadata().getName() + ":" + mongoPort);
    }
    String hosts = config.getString("mysimbdp.mongodb.uri").replaceFirst("^mongodb://([^@]*@)?", "").replaceFirst("/.*$", "");
    assertEquals(members, List.of(hosts.split(",")), "MONGODB_URI names every replica set member");
    List<String> args = mongoSet.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs();
    String replSet = args.get(args.indexOf("--replSet") + 1);
    assertTrue(mongo.getQuery().contains("replicaSet=" + replSet), "MONGODB_URI names the replica set " + replSet);
    assertEquals(3, mongoSet.getSpec().getReplicas(), "a three-member replica set");
    assertTrue(args.contains("--keyFile"), "members authenticate each other");

    URI amqp = URI.create(config.getString("mysimbdp.amqp.uri"));
    assertEquals("amqp", amqp.getScheme());
    StatefulSet rabbit = m.one(StatefulSet.class, "rabbitmq");
    Service rabbitService = headlessServiceOf(m, rabbit);
    assertEquals(rabbitService.getMetadata().getName(), amqp.getHost(), "AMQP_URI names the RabbitMQ Service");
    ServicePort amqpPort = rabbitService.getSpec().getPorts().stream()
        .filter(p -> p.getPort() == amqp.getPort()).findFirst()
        .orElseThrow(() -> new AssertionError("the RabbitMQ Service has no port " + amqp.getPort()));
    assertEquals(5672, servicePortTarget(rabbit, amqpPort));
    assertNotNull(amqp.getUserInfo(), "AMQP_URI carries the credentials from the Secret");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void statefulSetsKeepTheirDataOnVolumeClaims(Manifests m) {
    Map<String, String> dataPaths = Map.of("mongo", "/data/db", "rabbitmq", "/var/lib/rabbitmq");
    dataPaths.forEach((name, path) -> {
      StatefulSet set = m.one(StatefulSet.class, name);
      headlessServiceOf(m, set);
      Set<String> claims = new HashSet<>();
      set.getSpec().getVolumeClaimTemplates().forEach(c -> claims.add(c.getMetadata().getName()));
      VolumeMount mount = mountFor(set.getSpec().getTemplate().getSpec().getContainers().get(0), path + "/x");
      assertTrue(claims.contains(mount.getName()), name + " keeps " + path + " on a volume claim");
    });
    assertTrue(m.one(StatefulSet.class, "mongo").getSpec().getTemplate().getSpec().getContainers().get(0).getImage().startsWith("mongo:7"));
    assertTrue(m.one(StatefulSet.class, "rabbitmq").getSpec().getTemplate().getSpec().getContainers().get(0).getImage().startsWith("rabbitmq:3.13"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void theApiServiceReachesTheHttpPortAndNoServiceExposesManagementOrRemoting(Manifests m) {
    Deployment deployment = m.one(Deployment.class, NODE);
    Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
    Container node = nodeContainer(m);
    int http = nodeConfig(m).getInt("mysimbdp.http.port");
    Service api = m.one(Service.class, "mysimbdp-api");
    assertSelects(api.getSpec().getSelector(), podLabels, "the API Service");
    assertEquals(1, api.getSpec().getPorts().size());
    assertEquals(http, portNumber(node, api.getSpec().getPorts().get(0).getTargetPort()), "the Service targets the tenant API");

    int management = port(node, "management").getContainerPort();
    int remoting = port(node, "remoting").getContainerPort();
    for (Service service : m.all(Service.class)) {
      if (service.getSpec().getSelector() != null && selects(service.getSpec().getSelector(), podLabels)) {
        for (ServicePort p : service.getSpec().getPorts()) {
          int target = portNumber(node, p.getTargetPort() == null ? new IntOrString(p.getPort()) : p.getTargetPort());
          assertTrue(target != management && target != remoting, service.getMetadata().getName() + " exposes port " + target);
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void networkPolicyOpensTheApiAndKeepsManagementAndRemotingInTheNamespace(Manifests m) {
    Deployment deployment = m.one(Deployment.class, NODE);
    Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
    Container node = nodeContainer(m);
    List<NetworkPolicy> policies = m.all(NetworkPolicy.class).stream()
        .filter(p -> selects(p.getSpec().getPodSelector().getMatchLabels(), podLabels))
        .toList();
    assertEquals(1, policies.size(), "one NetworkPolicy selects the node pods");
    NetworkPolicy policy = policies.get(0);
    assertTrue(policy.getSpec().getPolicyTypes().contains("Ingress"));
    List<NetworkPolicyIngressRule> rules = policy.getSpec().getIngress();

    int http = port(node, "http").getContainerPort();
    assertTrue(rules.stream().anyMatch(r -> admits(node, r, http) && (r.getFrom() == null || r.getFrom().isEmpty())),
        "the tenant API is open");
    for (String name : List.of("management", "remoting")) {
      int port = port(node, name).getContainerPort();
      List<NetworkPolicyIngressRule> admitting = rules.stream().filter(r -> admits(node, r, port)).toList();
      assertFalse(admitting.isEmpty(), name + " is reachable from the other nodes");
      for (NetworkPolicyIngressRule rule : admitting) {
        assertTrue(rule.getFrom() != null && !rule.getFrom().isEmpty(), name + " (" + port + ") is not open to all");
        for (NetworkPolicyPeer peer : rule.getFrom()) {
          assertNotNull(peer.getPodSelector(), name + ": only pods");
          assertTrue(peer.getNamespaceSelector() == null && peer.getIpBlock() == null,
              name + ": only pods of this namespace, no namespace selector or IP block");
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void disruptionsAndScalingKeepAQuorumAndDrainsHaveTimeToHandOff(Manifests m) {
    Deployment deployment = m.one(Deployment.class, NODE);
    Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
    Config config = nodeConfig(m);

    PodDisruptionBudget pdb = m.all(PodDisruptionBudget.class).stream()
        .filter(p -> selects(p.getSpec().getSelector().getMatchLabels(), podLabels))
        .findFirst().orElseThrow(() -> new AssertionError("no PodDisruptionBudget selects the node pods"));
    if (pdb.getSpec().getMaxUnavailable() != null) {
      assertEquals(1, pdb.getSpec().getMaxUnavailable().getIntVal(), "one node at a time");
    } else {
      assertTrue(pdb.getSpec().getMinAvailable().getIntVal() >= 2);
    }

    Autoscaler autoscaler = autoscaler(m);
    assertEquals("Deployment", autoscaler.targetKind());
    assertEquals(NODE, autoscaler.target());
    assertTrue(autoscaler.onCpu(), autoscaler.kind() + " keeps CPU as a signal");
    assertNotNull(nodeContainer(m).getResources().getRequests().get("cpu"), "CPU utilisation needs a CPU request");
    assertTrue(autoscaler.minReplicas() <= deployment.getSpec().getReplicas()
        || autoscaler.minReplicas() >= 3, "at least three nodes");
    assertNotNull(autoscaler.scaleDown(), "scale-in is paced: every removed node hands its tenants off");
    assertTrue(autoscaler.scaleDown().getPolicies().stream().allMatch(p -> p.getType().equals("Pods") && p.getValue() == 1),
        "one node at a time");

    Duration handOff = config.getDuration("akka.cluster.sharding.handoff-timeout");
    Duration shardingPhase = config.getDuration("akka.coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout");
    Duration needed = (handOff.compareTo(shardingPhase) > 0 ? handOff : shardingPhase).plus(SHUTDOWN_MARGIN);
    long grace = deployment.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds();
    assertTrue(grace >= needed.toSeconds(), "terminationGracePeriodSeconds " + grace + " >= " + needed.toSeconds());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void everyPodRunsAsNonRootWithoutPrivilegeEscalation(Manifests m) {
    for (HasMetadata workload : m.resources()) {
      PodTemplateSpec template = template(workload);
      if (template == null) {
        continue;
      }
      String name = workload.getKind() + " " + workload.getMetadata().getName();
      assertTrue(template.getSpec().getSecurityContext().getRunAsNonRoot(), name + ": runAsNonRoot");
      List<Container> containers = new ArrayList<>(template.getSpec().getContainers());
      if (template.getSpec().getInitContainers() != null) {
        containers.addAll(template.getSpec().getInitContainers());
      }
      for (Container c : containers) {
        assertFalse(c.getSecurityContext().getAllowPrivilegeEscalation(), name + "/" + c.getName() + ": no privilege escalation");
        assertEquals(List.of("ALL"), c.getSecurityContext().getCapabilities().getDrop(), name + "/" + c.getName() + ": no capabilities");
        assertTrue(c.getResources() != null && c.getResources().getRequests() != null
            && c.getResources().getLimits() != null && c.getResources().getLimits().containsKey("memory"),
            name + "/" + c.getName() + ": resource requests and a memory limit");
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void everyReferencedSecretIsOneCreateSecretsMakes(Manifests m) throws IOException {
    Manifests contract = Manifests.file("secrets.example.yaml");
    String script = Files.readString(Manifests.k8sDir().resolve("create-secrets.sh"));
    Map<String, Set<String>> keys = new HashMap<>();
    for (Secret secret : contract.all(Secret.class)) {
      keys.put(secret.getMetadata().getName(), secret.getStringData().keySet());
      assertTrue(script.contains("create " + secret.getMetadata().getName() + " "), "create-secrets.sh makes " + secret.getMetadata().getName());
      for (String key : secret.getStringData().keySet()) {
        assertTrue(script.contains("=" + key + "=") || script.contains("--from-file=" + key + "="),
            "create-secrets.sh fills " + secret.getMetadata().getName() + "/" + key);
      }
    }
    assertTrue(m.all(Secret.class).isEmpty(), "no Secret values in the manifests");
    int references = 0;
    for (HasMetadata workload : m.resources()) {
      PodTemplateSpec template = template(workload);
      if (template == null) {
        continue;
      }
      List<Container> containers = new ArrayList<>(template.getSpec().getContainers());
      if (template.getSpec().getInitContainers() != null) {
        containers.addAll(template.getSpec().getInitContainers());
      }
      for (Container c : containers) {
        for (EnvVar var : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
          if (var.getValueFrom() != null && var.getValueFrom().getSecretKeyRef() != null) {
            var ref = var.getValueFrom().getSecretKeyRef();
            assertTrue(keys.getOrDefault(ref.getName(), Set.of()).contains(ref.getKey()), "no secret key " + ref.getName() + "/" + ref.getKey());
            references++;
          }
        }
      }
      for (Volume volume : template.getSpec().getVolumes() == null ? List.<Volume>of() : template.getSpec().getVolumes()) {
        if (volume.getSecret() != null) {
          // Secret files belong to root with group fsGroup: a non-root container reads them
          // only through that group.
          var security = template.getSpec().getSecurityContext();
          int mode = volume.getSecret().getDefaultMode() == null ? 0644 : volume.getSecret().getDefaultMode();
          assertTrue(security.getFsGroup() != null && (mode & 0040) != 0,
              workload.getMetadata().getName() + ": secret volume " + volume.getName()
                  + " must be group-readable (mode " + Integer.toOctalString(mode) + ") with an fsGroup");
          Set<String> known = keys.get(volume.getSecret().getSecretName());
          assertNotNull(known, "no secret " + volume.getSecret().getSecretName());
          if (volume.getSecret().getItems() != null) {
            volume.getSecret().getItems().forEach(i -> assertTrue(known.contains(i.getKey()), "no secret key " + i.getKey()));
          }
          references++;
        }
      }
    }
    assertTrue(references >= 8, "the workloads use the Secrets (" + references + " references)");
  }

  // ---- autoscaling on the nodes the balancer wants ----

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void theAutoscalerKeepsWithinTheBoundsTheBalancerCountsNodesIn(Manifests m) {
    Config config = nodeConfig(m);
    Autoscaler autoscaler = autoscaler(m);
    assertEquals(config.getInt("mysimbdp.balancer.min-nodes"), autoscaler.minReplicas(),
        "MIN_NODES is the " + autoscaler.kind() + "'s minimum: the balancer never asks for fewer than it keeps");
    assertEquals(config.getInt("mysimbdp.balancer.max-nodes"), autoscaler.maxReplicas(),
        "MAX_NODES is the " + autoscaler.kind() + "'s maximum: the balancer never asks for more than it gives");
  }

  /** Every manifest set with a ScaledObject, and the component's own file (checked without kubectl too). */
  static Stream<Manifests> scaledOnNodesWanted() {
    List<Manifests> all = new ArrayList<>(List.of(Manifests.file("components/autoscale-on-nodes-wanted/node-scaledobject.yaml")));
    manifests().filter(m -> !m.all(ScaledObject.class).isEmpty()).forEach(all::add);
    return all.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scaledOnNodesWanted")
  void theScaledObjectScalesTheNodesOnTheFigureTheBalancerExposesAndOnCpu(Manifests m) throws Exception {
    ScaledObject scaled = m.one(ScaledObject.class, NODE);
    assertEquals("Deployment", scaled.getSpec().scaleTargetRef().kind());
    assertEquals(NODE, scaled.getSpec().scaleTargetRef().name());
    assertEquals(NODE, scaled.getSpec().advanced().horizontalPodAutoscalerConfig().name(), "the HPA KEDA makes is the one the docs name");

    ScaledObject.Trigger wanted = scaled.getSpec().triggers().stream().filter(t -> t.type().equals("prometheus")).findFirst()
        .orElseThrow(() -> new AssertionError("no prometheus trigger"));
    // An absolute count: the HPA's desired replicas are ceil(value / threshold) with AverageValue.
    assertEquals("AverageValue", wanted.metricType());
    assertEquals("1", wanted.metadata().get("threshold"));
    String query = wanted.metadata().get("query");
    Matcher metric = Pattern.compile("^max\\((mysimbdp_[a-z_]+)\\{namespace=\"([a-z0-9-]+)\"}\\)$").matcher(query);
    assertTrue(metric.matches(), "max over the nodes (only the balancer's node has it) in this namespace: " + query);
    assertEquals("mysimbdp_balancer_nodes_wanted", metric.group(1));
    assertEquals(scaled.getMetadata().getNamespace(), metric.group(2));
    assertTrue(URI.create(wanted.metadata().get("serverAddress")).isAbsolute());
    // The node exposes that gauge on /metrics (the management port Prometheus scrapes: checked
    // with the annotations below), and the balancer counts what it reports.
    Path code = Manifests.k8sDir().getParent().resolve("node/src/main/java/io/mysimbdp/node/monitoring/PlatformMetrics.java");
    assertTrue(Files.readString(code).contains("gauge(\"" + metric.group(1) + "\""), code + " exposes " + metric.group(1));

    ScaledObject.Trigger cpu = scaled.getSpec().triggers().stream().filter(t -> t.type().equals("cpu")).findFirst()
        .orElseThrow(() -> new AssertionError("CPU stays a second signal"));
    assertEquals("Utilization", cpu.metricType());
    int percent = Integer.parseInt(cpu.metadata().get("value"));
    assertTrue(percent > 0 && percent < 100, "cpu " + percent);
    if (m.all(Deployment.class).stream().anyMatch(d -> d.getMetadata().getName().equals(NODE))) {
      assertTrue(m.all(HorizontalPodAutoscaler.class).stream().noneMatch(h -> h.getMetadata().getName().equals(NODE)),
          "no HPA of our own beside KEDA's: two HPAs on one Deployment fight");
    }
  }

  // ---- monitoring ----

  @ParameterizedTest(name = "{0}")
  @MethodSource("manifests")
  void prometheusScrapesMetricsOnTheManagementPortTheNodeServesThem(Manifests m) throws Exception {
    Map<String, String> annotations = m.one(Deployment.class, NODE).getSpec().getTemplate().getMetadata().getAnnotations();
    assertNotNull(annotations, "the pod template carries the prometheus.io annotations");
    Config config = nodeConfig(m);
    assertEquals("true", annotations.get("prometheus.io/scrape"));
    assertEquals(String.valueOf(config.getInt("akka.management.http.port")), annotations.get("prometheus.io/port"),
        "Prometheus scrapes the management port");
    assertEquals(port(nodeContainer(m), "management").getContainerPort(), Integer.parseInt(annotations.get("prometheus.io/port")));
    assertEquals("/metrics", annotations.get("prometheus.io/path"));
    // The node serves /metrics there: its route provider is registered, and is a management route provider.
    String provider = config.getString("akka.management.http.routes.mysimbdp-platform");
    assertTrue(akka.management.javadsl.ManagementRouteProvider.class.isAssignableFrom(Class.forName(provider)), provider);
    assertTrue(Files.readString(Manifests.k8sDir().getParent().resolve("node/src/main/java/" + provider.replace('.', '/') + ".java"))
        .contains("path(\"metrics\""), provider + " serves /metrics");
  }

  @Test
  void theGrafanaDashboardIsPrometheusPanelsAndRendersAsAConfigMapForGrafanasSidecar() throws IOException {
    Path file = Manifests.k8sDir().resolve("grafana/mysimbdp-dashboard.json");
    com.fasterxml.jackson.databind.JsonNode dashboard = new com.fasterxml.jackson.databind.ObjectMapper().readTree(file.toFile());
    assertFalse(dashboard.path("uid").asText().isBlank());
    int queries = 0;
    for (com.fasterxml.jackson.databind.JsonNode panel : dashboard.path("panels")) {
      if (panel.path("type").asText().equals("row")) {
        continue;
      }
      assertEquals("${datasource}", panel.path("datasource").path("uid").asText(), panel.path("title").asText());
      assertFalse(panel.path("targets").isEmpty(), panel.path("title").asText() + " has a query");
      for (com.fasterxml.jackson.databind.JsonNode target : panel.path("targets")) {
        assertFalse(target.path("expr").asText().isBlank(), panel.path("title").asText());
        queries++;
      }
    }
    assertTrue(queries >= 15, "per-tenant, balancer and JVM panels: " + queries);
    Optional<Manifests> rendered = Manifests.rendered("grafana");
    Assumptions.assumeTrue(rendered.isPresent(), "kubectl is not installed: k8s/grafana is not rendered");
    io.fabric8.kubernetes.api.model.ConfigMap map = rendered.get().one(io.fabric8.kubernetes.api.model.ConfigMap.class, "mysimbdp-grafana-dashboard");
    assertEquals("1", map.getMetadata().getLabels().get("grafana_dashboard"), "the label Grafana's dashboard sidecar looks for");
    assertEquals(Files.readString(file), map.getData().get("mysimbdp-dashboard.json"));
  }

  @Test
  void aFieldTheModelDoesNotKnowIsAnError() {
    String typo = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: x}
        spec:
          selector: {matchLabels: {app: x}}
          template:
            metadata: {labels: {app: x}}
            spec:
              containers:
                - name: x
                  image: x
                  readinesProbe: {httpGet: {path: /ready, port: 8558}}
        """;
    AssertionError error = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class, () -> Manifests.parse(typo, "typo"));
    assertTrue(error.getMessage().contains("readinesProbe"), error.getMessage());
    assertThrows(AssertionError.class, () -> Manifests.parse("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n", "pod"),
        "a kind the manifests should not hold");
  }

  @Test
  void theImageJibBuildsIsTheOneTheBaseDeploys() throws IOException {
    String pom = Files.readString(Manifests.k8sDir().getParent().resolve("node/pom.xml"));
    Matcher to = Pattern.compile("<jib.to.image>([^:<]+):\\$\\{project.version}</jib.to.image>").matcher(pom);
    assertTrue(to.find(), "node/pom.xml's image profile names the image");
    Matcher user = Pattern.compile("<user>([0-9]+):([0-9]+)</user>").matcher(pom);
    assertTrue(user.find(), "the image runs as a numeric non-root user");

    Manifests base = Manifests.base();
    assertEquals(to.group(1), nodeContainer(base).getImage(), "the Deployment's image is the one Jib builds");
    var pod = base.one(Deployment.class, NODE).getSpec().getTemplate().getSpec().getSecurityContext();
    assertEquals(Long.parseLong(user.group(1)), pod.getRunAsUser());
    assertEquals(Long.parseLong(user.group(2)), pod.getRunAsGroup());
    String version = Pattern.compile("<version>([^<]+)</version>").matcher(pom).results()
        .map(r -> r.group(1)).filter(v -> v.endsWith("SNAPSHOT")).findFirst().orElseThrow();
    String kustomization = Files.readString(Manifests.k8sDir().resolve("base/kustomization.yaml"));
    assertTrue(kustomization.contains("name: " + to.group(1)) && kustomization.contains("newTag: " + version),
        "k8s/base tags " + to.group(1) + " with the project version " + version);
  }

  // ---- the rendering ----

  @Test
  void theProductionOverlayRendersLargerWithAReleasedImage() {
    Optional<Manifests> rendered = Manifests.rendered("overlays/production");
    Assumptions.assumeTrue(rendered.isPresent(), "kubectl is not installed: the overlay is not rendered");
    Manifests production = rendered.get();
    Manifests base = Manifests.base();
    assertEquals(base.resources().size(), production.resources().size(), "the overlay adds and drops nothing (but swaps the HPA for a ScaledObject)");
    assertEquals("ScaledObject", autoscaler(production).kind(), "production scales on the nodes wanted");
    for (HasMetadata r : production.resources()) {
      if (!(r instanceof io.fabric8.kubernetes.api.model.Namespace)) {
        assertEquals("mysimbdp", r.getMetadata().getNamespace(), r.getKind() + " " + r.getMetadata().getName());
      }
    }
    Deployment big = production.one(Deployment.class, NODE);
    Deployment small = base.one(Deployment.class, NODE);
    assertTrue(big.getSpec().getReplicas() > small.getSpec().getReplicas());
    String image = nodeContainer(production).getImage();
    assertTrue(image.matches(".+/.+:[0-9]+\\.[0-9]+\\.[0-9]+"), "a released image from a registry: " + image);
    assertTrue(nodeContainer(production).getResources().getRequests().get("memory").getNumericalAmount()
        .compareTo(nodeContainer(base).getResources().getRequests().get("memory").getNumericalAmount()) > 0);
  }

  // ---- helpers ----

  /** What scales the nodes, whichever kind: the base's HPA on CPU, or KEDA's ScaledObject on the nodes wanted and CPU. */
  record Autoscaler(String kind, String targetKind, String target, int minReplicas, int maxReplicas, boolean onCpu,
      io.fabric8.kubernetes.api.model.autoscaling.v2.HPAScalingRules scaleDown) {}

  static Autoscaler autoscaler(Manifests m) {
    List<HorizontalPodAutoscaler> hpas = m.all(HorizontalPodAutoscaler.class).stream().filter(h -> h.getMetadata().getName().equals(NODE)).toList();
    List<ScaledObject> scaled = m.all(ScaledObject.class).stream().filter(h -> h.getMetadata().getName().equals(NODE)).toList();
    assertEquals(1, hpas.size() + scaled.size(), m + ": one autoscaler for the nodes, an HPA or a ScaledObject");
    if (!hpas.isEmpty()) {
      var spec = hpas.get(0).getSpec();
      return new Autoscaler("HorizontalPodAutoscaler", spec.getScaleTargetRef().getKind(), spec.getScaleTargetRef().getName(),
          spec.getMinReplicas(), spec.getMaxReplicas(),
          spec.getMetrics().stream().anyMatch(x -> x.getResource() != null && x.getResource().getName().equals("cpu")),
          spec.getBehavior() == null ? null : spec.getBehavior().getScaleDown());
    }
    ScaledObject.Spec spec = scaled.get(0).getSpec();
    var behavior = spec.advanced() == null || spec.advanced().horizontalPodAutoscalerConfig() == null ? null
        : spec.advanced().horizontalPodAutoscalerConfig().behavior();
    return new Autoscaler("ScaledObject", spec.scaleTargetRef().kind(), spec.scaleTargetRef().name(), spec.minReplicaCount(),
        spec.maxReplicaCount(), spec.triggers().stream().anyMatch(t -> t.type().equals("cpu")),
        behavior == null ? null : behavior.getScaleDown());
  }

  private static Container nodeContainer(Manifests m) {
    return m.one(Deployment.class, NODE).getSpec().getTemplate().getSpec().getContainers().stream()
        .filter(c -> c.getName().equals("node")).findFirst()
        .orElseThrow(() -> new AssertionError("no container 'node'"));
  }

  /**
   * The configuration the node would run with in the pod: the resource named by
   * JAVA_TOOL_OPTIONS, its -D options, and the container's environment (pod IP 10.1.2.3,
   * secrets as placeholders); nothing from this JVM's own environment.
   */
  static Config nodeConfig(Manifests m) {
    Deployment deployment = m.one(Deployment.class, NODE);
    Container node = nodeContainer(m);
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar var : node.getEnv()) {
      String value;
      if (var.getValue() != null) {
        value = var.getValue();
        for (Map.Entry<String, String> earlier : env.entrySet()) {
          value = value.replace("$(" + earlier.getKey() + ")", earlier.getValue());
        }
      } else if (var.getValueFrom().getFieldRef() != null) {
        value = switch (var.getValueFrom().getFieldRef().getFieldPath()) {
          case "status.podIP" -> "10.1.2.3";
          case "metadata.namespace" -> deployment.getMetadata().getNamespace();
          default -> var.getValueFrom().getFieldRef().getFieldPath();
        };
      } else if (var.getValueFrom().getSecretKeyRef() != null) {
        value = "secret" + Math.abs(var.getValueFrom().getSecretKeyRef().getKey().hashCode());
      } else {
        throw new AssertionError("unexpected env source for " + var.getName());
      }
      env.put(var.getName(), value);
    }
    String options = env.getOrDefault("JAVA_TOOL_OPTIONS", "");
    Map<String, String> systemProperties = new HashMap<>();
    Matcher property = Pattern.compile("-D([^=\\s]+)=(\\S*)").matcher(options);
    while (property.find()) {
      systemProperties.put(property.group(1), property.group(2));
    }
    String resource = systemProperties.remove("config.resource");
    assertNotNull(resource, "JAVA_TOOL_OPTIONS selects the configuration with -Dconfig.resource");
    Config app = ConfigFactory.parseResources(resource);
    assertFalse(app.isEmpty(), resource + " is on the node's class path");
    return ConfigFactory.parseMap(systemProperties)
        .withFallback(ConfigFactory.parseMap(env))
        .withFallback(app)
        .withFallback(ConfigFactory.defaultReference())
        .resolve(ConfigResolveOptions.defaults().setUseSystemEnvironment(false));
  }

  /** Every ${?VAR} in cluster-config's HOCON and every ${VAR:-default} in logback.xml. */
  static Set<String> environmentTheNodeReads() throws IOException {
    Path root = Manifests.k8sDir().getParent();
    Set<String> names = new TreeSet<>();
    try (Stream<Path> files = Files.list(root.resolve("cluster-config/src/main/resources"))) {
      for (Path conf : files.filter(f -> f.toString().endsWith(".conf")).toList()) {
        Matcher m = Pattern.compile("\\$\\{\\?([A-Z0-9_]+)}").matcher(Files.readString(conf));
        while (m.find()) {
          names.add(m.group(1));
        }
      }
    }
    Matcher m = Pattern.compile("\\$\\{([A-Z0-9_]+):-").matcher(Files.readString(root.resolve("node/src/main/resources/logback.xml")));
    while (m.find()) {
      names.add(m.group(1));
    }
    assertTrue(names.containsAll(List.of("POD_IP", "MONGODB_URI", "AMQP_URI", "MYSIMBDP_ADMIN_TOKEN_FILE")), names.toString());
    return names;
  }

  private static ContainerPort port(Container container, String name) {
    return container.getPorts().stream().filter(p -> name.equals(p.getName())).findFirst()
        .orElseThrow(() -> new AssertionError("container " + container.getName() + " has no port named " + name));
  }

  private static int portNumber(Container container, IntOrString port) {
    return port.getIntVal() != null ? port.getIntVal() : port(container, port.getStrVal()).getContainerPort();
  }

  private static boolean admits(Container container, NetworkPolicyIngressRule rule, int port) {
    if (rule.getPorts() == null || rule.getPorts().isEmpty()) {
      return true;
    }
    for (NetworkPolicyPort p : rule.getPorts()) {
      if (p.getPort() == null || portNumber(container, p.getPort()) == port) {
        return true;
      }
    }
    return false;
  }

  private static int servicePortTarget(StatefulSet set, ServicePort servicePort) {
    Container container = set.getSpec().getTemplate().getSpec().getContainers().get(0);
    IntOrString target = servicePort.getTargetPort() == null ? new IntOrString(servicePort.getPort()) : servicePort.getTargetPort();
    return portNumber(container, target);
  }

  private static Service headlessServiceOf(Manifests m, StatefulSet set) {
    Service service = m.one(Service.class, set.getSpec().getServiceName());
    assertEquals("None", service.getSpec().getClusterIP(), service.getMetadata().getName() + " is headless");
    assertSelects(service.getSpec().getSelector(), set.getSpec().getTemplate().getMetadata().getLabels(), service.getMetadata().getName());
    assertSelects(set.getSpec().getSelector().getMatchLabels(), set.getSpec().getTemplate().getMetadata().getLabels(), set.getMetadata().getName());
    return service;
  }

  private static VolumeMount mountFor(Container container, String path) {
    return container.getVolumeMounts().stream()
        .filter(v -> Path.of(path).startsWith(Path.of(v.getMountPath())))
        .max((a, b) -> Integer.compare(a.getMountPath().length(), b.getMountPath().length()))
        .orElseThrow(() -> new AssertionError(container.getName() + ": no volume mounted over " + path));
  }

  private static PodTemplateSpec template(HasMetadata workload) {
    if (workload instanceof Deployment d) {
      return d.getSpec().getTemplate();
    }
    if (workload instanceof StatefulSet s) {
      return s.getSpec().getTemplate();
    }
    if (workload instanceof io.fabric8.kubernetes.api.model.batch.v1.Job j) {
      return j.getSpec().getTemplate();
    }
    return null;
  }

  private static Map<String, String> labelSelector(String selector) {
    Map<String, String> labels = new HashMap<>();
    for (String term : selector.split(",")) {
      String[] kv = term.split("=", 2);
      if (kv.length != 2) {
        fail("only equality selectors are expected: " + selector);
      }
      labels.put(kv[0].trim(), kv[1].trim());
    }
    return labels;
  }

  static boolean selects(Map<String, String> selector, Map<String, String> labels) {
    return selector != null && !selector.isEmpty() && labels.entrySet().containsAll(selector.entrySet());
  }

  private static void assertSelects(Map<String, String> selector, Map<String, String> labels, String what) {
    assertTrue(selects(selector, labels), what + " selects " + selector + ", the pods have " + labels);
  }
}
