package dev.sluice.jmx;

import java.util.concurrent.atomic.AtomicLong;
import javax.management.AttributeChangeNotification;
import javax.management.MBeanNotificationInfo;
import javax.management.NotificationBroadcasterSupport;

/**
 * The {@code sluice:type=Instance} MXBean. Emits an {@link AttributeChangeNotification} on {@code
 * State} whenever the enforced state changes, whoever changed it.
 */
public final class Instance extends NotificationBroadcasterSupport implements InstanceMXBean {

  private final InstanceControl control;
  private final AtomicLong sequence = new AtomicLong();

  public Instance(InstanceControl control) {
    super(
        new MBeanNotificationInfo(
            new String[] {AttributeChangeNotification.ATTRIBUTE_CHANGE},
            AttributeChangeNotification.class.getName(),
            "The instance state changed"));
    this.control = control;
  }

  @Override
  public String getId() {
    return control.id();
  }

  @Override
  public String getState() {
    return stateName(control.disabled());
  }

  @Override
  public boolean isDisabled() {
    return control.disabled();
  }

  @Override
  public String getMode() {
    return control.registryMode() ? "REGISTRY" : "LOCAL";
  }

  @Override
  public boolean isRegistryConnected() {
    return control.registryConnected();
  }

  @Override
  public String getRegistryPath() {
    return control.registryPath();
  }

  @Override
  public void disable() {
    control.setDisabled(true);
  }

  @Override
  public void enable() {
    control.setDisabled(false);
  }

  /** Announces a change of the enforced state. */
  public void stateChanged(boolean wasDisabled, boolean nowDisabled) {
    sendNotification(
        new AttributeChangeNotification(
            this,
            sequence.incrementAndGet(),
            System.currentTimeMillis(),
            "State changed to " + stateName(nowDisabled),
            "State",
            String.class.getName(),
            stateName(wasDisabled),
            stateName(nowDisabled)));
  }

  static String stateName(boolean disabled) {
    return disabled ? "DISABLED" : "ENABLED";
  }
}
