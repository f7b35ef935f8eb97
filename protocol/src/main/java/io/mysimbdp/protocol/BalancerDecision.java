package io.mysimbdp.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;

/**
 * One placement decision of the load balancer, as stored in {@code balancer_decisions}.
 *
 * @param kind {@code place} (a new tenant), {@code relieve} (a lagging tenant off a saturated
 *     node), {@code even-out} (loads uneven, e.g. a node joined), {@code failover} (its node left
 *     or crashed), {@code manual}; {@code scale-out} / {@code scale-in} (the nodes the cluster needs
 *     changed: no node, the tenant whose lag asked for a node, if any)
 * @param from the node the tenant ran on, null when it ran nowhere
 * @param to the node it is placed on
 * @param reason the measurements that made the decision, in words
 * @param consumingAt when the tenant's consumer took its first message on the new node (null: not
 *     yet, or the tenant has no started stream)
 * @param handOffMillis {@code consumingAt - decidedAt}
 * @param backlogAtResume messages waiting in the tenant's queue when it resumed: those the move delayed
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BalancerDecision(
    String id,
    String tenant,
    String kind,
    String from,
    String to,
    String reason,
    @JsonProperty("decided_at") Instant decidedAt,
    @JsonProperty("consuming_at") Instant consumingAt,
    @JsonProperty("hand_off_ms") Long handOffMillis,
    @JsonProperty("backlog_at_resume") Long backlogAtResume) {}
