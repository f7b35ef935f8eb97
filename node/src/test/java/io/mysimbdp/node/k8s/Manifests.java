package io.mysimbdp.node.k8s;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The manifests under {@code k8s/}, parsed into the typed Kubernetes model (fabric8): either the
 * base's files as listed in its kustomization, or what {@code kubectl kustomize} renders for a
 * directory. A field the model does not know (a typo, a wrong nesting) is an error.
 */
record Manifests(String origin, List<HasMetadata> resources) {

  /** Every kind the manifests may hold, by apiVersion/kind; anything else is an error. */
  private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.ofEntries(
      Map.entry("v1/Namespace", Namespace.class),
      Map.entry("v1/ServiceAccount", ServiceAccount.class),
      Map.entry("v1/Service", Service.class),
      Map.entry("v1/Secret", Secret.class),
      Map.entry("v1/ConfigMap", ConfigMap.class),
      Map.entry("rbac.authorization.k8s.io/v1/Role", Role.class),
      Map.entry("rbac.authorization.k8s.io/v1/RoleBinding", RoleBinding.class),
      Map.entry("apps/v1/Deployment", Deployment.class),
      Map.entry("apps/v1/StatefulSet", StatefulSet.class),
      Map.entry("batch/v1/Job", Job.class),
      Map.entry("networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class),
      Map.entry("policy/v1/PodDisruptionBudget", PodDisruptionBudget.class),
      Map.entry("autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class),
      Map.entry("keda.sh/v1alpha1/ScaledObject", ScaledObject.class));

  private static final YAMLMapper YAML = new YAMLMapper();
  private static final ObjectMapper MODEL =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

  /** The repository's k8s/ folder, found from the module's working directory. */
  static Path k8sDir() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null) {
      if (Files.isDirectory(dir.resolve("k8s/base"))) {
        return dir.resolve("k8s");
      }
      dir = dir.getParent();
    }
    throw new AssertionError("no k8s/base above " + Path.of("").toAbsolutePath());
  }

  /** The base, file by file, without kustomize (what CI without kubectl checks). */
  static Manifests base() {
    Path base = k8sDir().resolve("base");
    JsonNode kustomization = readTree(base.resolve("kustomization.yaml"));
    List<HasMetadata> all = new ArrayList<>();
    for (JsonNode file : kustomization.path("resources")) {
      all.addAll(parse(read(base.resolve(file.asText())), "k8s/base/" + file.asText()));
    }
    return new Manifests("k8s/base (files)", all);
  }

  /** Any YAML file under k8s/ read on its own (the secrets contract, a component's resource). */
  static Manifests file(String relative) {
    return new Manifests("k8s/" + relative, parse(read(k8sDir().resolve(relative)), relative));
  }

  static Optional<Path> kubectl() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      Path candidate = Path.of(dir, "kubectl");
      if (Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  private static final Map<String, Manifests> RENDERED = new java.util.concurrent.ConcurrentHashMap<>();

  /** {@code kubectl kustomize k8s/<dir>}, parsed (once per run); empty when kubectl is not installed. */
  static Optional<Manifests> rendered(String dir) {
    return kubectl().map(kubectl -> RENDERED.computeIfAbsent(dir,
        d -> new Manifests("kubectl kustomize k8s/" + d, parse(render(kubectl, d), d))));
  }

  static String render(Path kubectl, String dir) {
    try {
      Path out = Files.createTempFile("kustomize", ".yaml");
      Path err = Files.createTempFile("kustomize", ".err");
      try {
        Process process = new ProcessBuilder(kubectl.toString(), "kustomize", k8sDir().resolve(dir).toString())
            .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          throw new AssertionError("kubectl kustomize k8s/" + dir + " did not finish within 60 s");
        }
        if (process.exitValue() != 0) {
          throw new AssertionError("kubectl kustomize k8s/" + dir + " failed:\n" + Files.readString(err));
        }
        return Files.readString(out);
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  static List<HasMetadata> parse(String yaml, String origin) {
    List<HasMetadata> all = new ArrayList<>();
    try (var documents = YAML.readValues(new YAMLFactory().createParser(yaml), JsonNode.class)) {
      int index = 0;
      while (documents.hasNext()) {
        JsonNode document = documents.next();
        index++;
        if (document == null || document.isNull() || document.isEmpty()) {
          continue;
        }
        String key = document.path("apiVersion").asText() + "/" + document.path("kind").asText();
        Class<? extends HasMetadata> type = KINDS.get(key);
        if (type == null) {
          throw new AssertionError(origin + " document " + index + ": unexpected kind " + key);
        }
        HasMetadata resource;
        try {
          resource = MODEL.treeToValue(document, type);
        } catch (IOException e) {
          throw new AssertionError(origin + " document " + index + " (" + key + ") does not parse: " + e.getMessage(), e);
        }
        List<String> unknown = new ArrayList<>();
        unknownFields(resource, key + " " + resource.getMetadata().getName(), unknown);
        if (!unknown.isEmpty()) {
          throw new AssertionError(origin + ": fields the Kubernetes model does not know: " + unknown);
        }
        all.add(resource);
      }
    } catch (IOException e) {
      throw new AssertionError(origin + " is not YAML: " + e.getMessage(), e);
    }
    return all;
  }

  /**
   * The model keeps fields it does not know in {@code additionalProperties} instead of failing;
   * walks the whole object tree and lists them.
   */
  private static void unknownFields(Object value, String path, List<String> out) {
    if (value == null) {
      return;
    }
    if (value instanceof Collection<?> list) {
      int i = 0;
      for (Object item : list) {
        unknownFields(item, path + "[" + i++ + "]", out);
      }
      return;
    }
    if (value instanceof Map<?, ?> map) {
      map.forEach((k, v) -> unknownFields(v, path + "." + k, out));
      return;
    }
    if (value.getClass().isRecord()) {
      // Our own model of a kind fabric8 does not have (KEDA's): fabric8 types may sit inside it.
      for (var component : value.getClass().getRecordComponents()) {
        try {
          component.getAccessor().setAccessible(true);
          unknownFields(component.getAccessor().invoke(value), path + "." + component.getName(), out);
        } catch (ReflectiveOperationException e) {
          throw new AssertionError(e);
        }
      }
      return;
    }
    if (value instanceof ScaledObject scaled) {
      unknownFields(scaled.getMetadata(), path + ".metadata", out);
      unknownFields(scaled.getSpec(), path + ".spec", out);
      return;
    }
    if (!value.getClass().getName().startsWith("io.fabric8.")) {
      return;
    }
    for (Method getter : value.getClass().getMethods()) {
      if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
          || !getter.getName().startsWith("get") || getter.getDeclaringClass() == Object.class) {
        continue;
      }
      try {
        Object field = getter.invoke(value);
        if (getter.getName().equals("getAdditionalProperties")) {
          if (field instanceof Map<?, ?> extra && !extra.isEmpty()) {
            out.add(path + ": " + extra.keySet());
          }
        } else {
          unknownFields(field, path + "." + decapitalize(getter.getName().substring(3)), out);
        }
      } catch (ReflectiveOperationException e) {
        throw new AssertionError(e);
      }
    }
  }

  private static String decapitalize(String name) {
    return name.isEmpty() ? name : Character.toLowerCase(name.charAt(0)) + name.substring(1);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static JsonNode readTree(Path file) {
    try {
      return YAML.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return resources.stream().filter(type::isInstance).map(type::cast).toList();
  }

  <T extends HasMetadata> T one(Class<T> type, String name) {
    return all(type).stream()
        .filter(r -> r.getMetadata().getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError(origin + ": no " + type.getSimpleName() + " named " + name));
  }

  @Override
  public String toString() {
    return origin;
  }
}
