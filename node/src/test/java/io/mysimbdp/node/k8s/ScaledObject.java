package io.mysimbdp.node.k8s;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBehavior;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Version;
import java.util.List;
import java.util.Map;

/**
 * KEDA's {@code ScaledObject} (keda.sh/v1alpha1), the fields the manifests use, for {@link Manifests}:
 * fabric8 has no model of it, and a field not listed here is an error as for the built-in kinds.
 * The HPA behaviour is fabric8's own model (KEDA passes it to the HPA it makes).
 */
@Group("keda.sh")
@Version("v1alpha1")
@Kind("ScaledObject")
@JsonInclude(JsonInclude.Include.NON_NULL)
// Not fabric8's deserializer for KubernetesResource (it makes a GenericKubernetesResource of any kind it does not know).
@JsonDeserialize(using = JsonDeserializer.None.class)
final class ScaledObject implements HasMetadata {
  private String apiVersion = "keda.sh/v1alpha1";
  private ObjectMeta metadata;
  private Spec spec;

  record Spec(ScaleTargetRef scaleTargetRef, Integer minReplicaCount, Integer maxReplicaCount, Integer pollingInterval,
      Integer cooldownPeriod, Advanced advanced, List<Trigger> triggers) {}

  record ScaleTargetRef(String apiVersion, String kind, String name) {}

  record Advanced(HorizontalPodAutoscalerConfig horizontalPodAutoscalerConfig) {}

  record HorizontalPodAutoscalerConfig(String name, HorizontalPodAutoscalerBehavior behavior) {}

  record Trigger(String type, String name, String metricType, Map<String, String> metadata) {}

  @Override
  public ObjectMeta getMetadata() {
    return metadata;
  }

  @Override
  public void setMetadata(ObjectMeta metadata) {
    this.metadata = metadata;
  }

  @Override
  public String getApiVersion() {
    return apiVersion;
  }

  @Override
  public void setApiVersion(String apiVersion) {
    this.apiVersion = apiVersion;
  }

  public void setKind(String kind) {
    if (!"ScaledObject".equals(kind)) {
      throw new IllegalArgumentException("not a ScaledObject: " + kind);
    }
  }

  public Spec getSpec() {
    return spec;
  }

  public void setSpec(Spec spec) {
    this.spec = spec;
  }
}
