package io.mysimbdp.node.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.NodeProcess;
import java.io.FileInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three node processes, started as the Deployment starts them ({@code kubernetes.conf}, pod IP and
 * namespace from the environment), form one cluster through the real {@code kubernetes-api}
 * discovery: it asks a stand-in Kubernetes API server (HTTPS on loopback, with its own CA and a
 * service-account token) for the pods labelled {@code app=mysimbdp}, and the stand-in answers with
 * three pods built from the Deployment's own pod template. All three share 127.0.0.1, so each pod
 * gets its own "management" container port.
 */
class KubernetesBootstrapTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration FORMED_WITHIN = Duration.ofSeconds(90);

  @Test
  void threeNodesFormOneClusterThroughKubernetesApiDiscovery(@TempDir Path dir) throws Exception {
    Deployment deployment = Manifests.base().one(Deployment.class, "mysimbdp");
    String namespace = deployment.getMetadata().getNamespace();
    String token = "test-token-" + System.nanoTime();
    Path tokenFile = Files.writeString(dir.resolve("token"), token);
    Path caFile = dir.resolve("ca.crt");
    SSLContext tls = selfSignedTls(dir, caFile);

    List<NodeProcess.Settings> settings = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Path data = Files.createDirectories(dir.resolve("node-" + i + "/data"));
      settings.add(NodeProcess.Settings.fresh(data));
    }
    PodList pods = podsFromTheDeployment(deployment, settings);

    ConcurrentLinkedQueue<String> asked = new ConcurrentLinkedQueue<>();
    HttpsServer api = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    api.setHttpsConfigurator(new HttpsConfigurator(tls));
    api.createContext("/", exchange -> {
      String query = exchange.getRequestURI().getRawQuery();
      String selector = query == null ? "" : URLDecoder.decode(query.replaceFirst("^labelSelector=", ""), StandardCharsets.UTF_8);
      asked.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath() + " " + selector);
      byte[] body;
      int status;
      if (!("Bearer " + token).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
        status = 401;
        body = "{\"kind\":\"Status\",\"code\":401}".getBytes(StandardCharsets.UTF_8);
      } else if (!exchange.getRequestURI().getPath().equals("/api/v1/namespaces/" + namespace + "/pods")) {
        status = 404;
        body = "{\"kind\":\"Status\",\"code\":404}".getBytes(StandardCharsets.UTF_8);
      } else {
        status = 200;
        PodList answer = new PodList();
        answer.setItems(pods.getItems().stream().filter(p -> matches(selector, p.getMetadata().getLabels())).toList());
        body = JSON.writeValueAsBytes(answer);
      }
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(status, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    api.start();

    List<NodeProcess> nodes = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        NodeProcess.Settings s = settings.get(i);
        Map<String, String> env = Map.of(
            "POD_IP", "127.0.0.1",
            "POD_NAMESPACE", namespace,
            "REQUIRED_CONTACT_POINT_NR", "3",
            "KUBERNETES_SERVICE_HOST", "127.0.0.1",
            "KUBERNETES_SERVICE_PORT", Integer.toString(api.getAddress().getPort()),
            // As in the Deployment, the store and the broker are elsewhere (here: nowhere, which
            // only /ready notices): no embedded services start, and the cluster forms without them.
            "MONGODB_URI", "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=1000",
            "AMQP_URI", "amqp://127.0.0.1:9");
        NodeProcess.Settings withEnv = new NodeProcess.Settings(s.dataDir(), s.httpPort(), s.managementPort(), s.akkaPort(), env);
        nodes.add(NodeProcess.start(withEnv, "node-" + i + ".log",
            "-Dconfig.resource=kubernetes.conf",
            "-Dakka.discovery.kubernetes-api.api-token-path=" + tokenFile,
            "-Dakka.discovery.kubernetes-api.api-ca-path=" + caFile,
            // In a pod these bind all interfaces; here, loopback only.
            "-Dakka.remote.artery.bind.hostname=127.0.0.1",
            "-Dakka.management.http.bind-hostname=127.0.0.1",
            "-Dmysimbdp.http.host=127.0.0.1",
            "-Xmx512m"));
      }

      Set<String> expected = new TreeSet<>();
      settings.forEach(s -> expected.add("akka://mysimbdp@127.0.0.1:" + s.akkaPort()));
      Instant deadline = Instant.now().plus(FORMED_WITHIN);
      String lastSeen = "";
      boolean formed = false;
      while (!formed && Instant.now().isBefore(deadline)) {
        formed = true;
        for (NodeProcess node : nodes) {
          if (!node.process.isAlive()) {
            throw new AssertionError("a node exited:\n" + Files.readString(node.log));
          }
          Set<String> up = upMembers(node);
          lastSeen = "node on " + node.managementPort + " sees " + up;
          if (!up.equals(expected)) {
            formed = false;
            break;
          }
        }
        if (!formed) {
          Thread.sleep(1000);
        }
      }
      assertTrue(formed, "one cluster of " + expected + " within " + FORMED_WITHIN + "; last: " + lastSeen
          + "\nasked the API: " + asked + "\n" + Files.readString(nodes.get(0).log));

      // Discovery asked the API server what the Deployment's pods answer to, and nothing else.
      String podsOfTheDeployment = "GET /api/v1/namespaces/" + namespace + "/pods app=mysimbdp";
      assertTrue(asked.stream().allMatch(podsOfTheDeployment::equals), "asked: " + asked);
      assertTrue(asked.size() >= 3, "every node asked: " + asked);
    } finally {
      for (NodeProcess node : nodes) {
        node.kill();
      }
      api.stop(0);
    }
  }

  /** One pod per node, from the Deployment's template, Running on 127.0.0.1 with its own ports. */
  private static PodList podsFromTheDeployment(Deployment deployment, List<NodeProcess.Settings> settings) {
    List<Pod> pods = new ArrayList<>();
    for (int i = 0; i < settings.size(); i++) {
      Pod pod = new Pod();
      ObjectMeta meta = new ObjectMeta();
      meta.setName(deployment.getMetadata().getName() + "-" + i);
      meta.setNamespace(deployment.getMetadata().getNamespace());
      meta.setLabels(deployment.getSpec().getTemplate().getMetadata().getLabels());
      pod.setMetadata(meta);
      pod.setSpec(JSON.convertValue(deployment.getSpec().getTemplate().getSpec(), io.fabric8.kubernetes.api.model.PodSpec.class));
      Container node = pod.getSpec().getContainers().get(0);
      int managementPort = settings.get(i).managementPort();
      node.getPorts().forEach(p -> {
        if (p.getName().equals("management")) {
          p.setContainerPort(managementPort);
        }
      });
      PodStatus status = new PodStatus();
      status.setPhase("Running");
      status.setPodIP("127.0.0.1");
      pod.setStatus(status);
      pods.add(pod);
    }
    // A pod of something else in the namespace, which the selector must leave out.
    Pod other = JSON.convertValue(pods.get(0), Pod.class);
    other.getMetadata().setName("mongo-0");
    other.getMetadata().setLabels(Map.of("app", "mongo"));
    pods.add(other);
    PodList list = new PodList();
    list.setItems(pods);
    return list;
  }

  private static boolean matches(String selector, Map<String, String> labels) {
    for (String term : selector.split(",")) {
      String[] kv = term.split("=", 2);
      if (kv.length != 2 || !kv[1].equals(labels.get(kv[0]))) {
        return false;
      }
    }
    return true;
  }

  private static Set<String> upMembers(NodeProcess node) {
    try {
      HttpApi.Reply reply = new HttpApi("http://127.0.0.1:" + node.managementPort, null).get("/cluster/members", null);
      Set<String> up = new TreeSet<>();
      if (reply.status() == 200) {
        for (JsonNode member : reply.json().path("members")) {
          if (member.path("status").asText().equals("Up")) {
            up.add(member.path("node").asText());
          }
        }
      }
      return up;
    } catch (RuntimeException e) {
      return Set.of();
    }
  }

  /** A key pair for 127.0.0.1 made with keytool; its certificate (PEM) is the API server's CA. */
  static SSLContext selfSignedTls(Path dir, Path caPem) throws Exception {
    Path store = dir.resolve("api.p12");
    String password = "changeit";
    keytool("-genkeypair", "-alias", "api", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
        "-dname", "CN=kubernetes", "-ext", "SAN=ip:127.0.0.1", "-storetype", "PKCS12",
        "-keystore", store.toString(), "-storepass", password, "-keypass", password);
    keytool("-exportcert", "-rfc", "-alias", "api", "-keystore", store.toString(), "-storepass", password,
        "-file", caPem.toString());
    KeyStore keyStore = KeyStore.getInstance("PKCS12");
    try (FileInputStream in = new FileInputStream(store.toFile())) {
      keyStore.load(in, password.toCharArray());
    }
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(keyStore, password.toCharArray());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), null, null);
    return context;
  }

  static void keytool(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new AssertionError("keytool " + String.join(" ", args) + " failed: " + output);
    }
  }
}
