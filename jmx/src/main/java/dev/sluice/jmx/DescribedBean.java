package dev.sluice.jmx;

import java.lang.reflect.Method;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.AttributeChangeNotification;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanConstructorInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanNotificationInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.NotificationBroadcasterSupport;
import javax.management.StandardEmitterMBean;

/**
 * An MXBean that explains itself in JConsole and VisualVM: the bean, each attribute, operation and
 * parameter described from the {@link Description}s on its interface, every operation of impact
 * {@code ACTION} (each changes the fleet), no constructor shown (it takes the agent's internals),
 * and its changes announced as notifications carrying the old and the new value.
 */
abstract class DescribedBean extends StandardEmitterMBean {

  private final Class<?> type;
  private final AtomicLong sequence = new AtomicLong();

  /**
   * @param type the MXBean interface, carrying the descriptions
   * @param notifications what the bean announces
   */
  DescribedBean(Class<?> type, MBeanNotificationInfo... notifications) {
    super(type, true, new NotificationBroadcasterSupport(notifications));
    this.type = type;
  }

  /** Sends an {@link AttributeChangeNotification} of the String attribute {@code attribute}. */
  void announce(String attribute, String was, String now) {
    sendNotification(
        new AttributeChangeNotification(
            this,
            sequence.incrementAndGet(),
            System.currentTimeMillis(),
            attribute + " changed from " + was + " to " + now,
            attribute,
            String.class.getName(),
            was,
            now));
  }

  /** What a bean announcing changes of its attributes declares. */
  static MBeanNotificationInfo changes(String description) {
    return new MBeanNotificationInfo(
        new String[] {AttributeChangeNotification.ATTRIBUTE_CHANGE},
        AttributeChangeNotification.class.getName(),
        description);
  }

  @Override
  protected String getDescription(MBeanInfo info) {
    Description d = type.getAnnotation(Description.class);
    return d != null ? d.value() : super.getDescription(info);
  }

  @Override
  protected String getDescription(MBeanAttributeInfo info) {
    for (String prefix : new String[] {"get", "is"}) {
      Description d = described(prefix + info.getName(), 0);
      if (d != null) {
        return d.value();
      }
    }
    return super.getDescription(info);
  }

  @Override
  protected String getDescription(MBeanOperationInfo info) {
    Description d = described(info.getName(), info.getSignature().length);
    return d != null ? d.value() : super.getDescription(info);
  }

  @Override
  protected int getImpact(MBeanOperationInfo info) {
    return MBeanOperationInfo.ACTION;
  }

  @Override
  protected String getParameterName(MBeanOperationInfo op, MBeanParameterInfo param, int sequence) {
    Description d = parameter(op, sequence);
    return d != null && !d.name().isEmpty()
        ? d.name()
        : super.getParameterName(op, param, sequence);
  }

  @Override
  protected String getDescription(MBeanOperationInfo op, MBeanParameterInfo param, int sequence) {
    Description d = parameter(op, sequence);
    return d != null ? d.value() : super.getDescription(op, param, sequence);
  }

  @Override
  protected MBeanConstructorInfo[] getConstructors(
      MBeanConstructorInfo[] constructors, Object implementation) {
    return null; // made by the agent, never by a JMX client
  }

  private Description described(String method, int parameters) {
    for (Method m : type.getMethods()) {
      if (m.getName().equals(method) && m.getParameterCount() == parameters) {
        return m.getAnnotation(Description.class);
      }
    }
    return null;
  }

  private Description parameter(MBeanOperationInfo op, int sequence) {
    for (Method m : type.getMethods()) {
      if (m.getName().equals(op.getName())
          && m.getParameterCount() == op.getSignature().length
          && sequence < m.getParameterCount()) {
        for (java.lang.annotation.Annotation a : m.getParameterAnnotations()[sequence]) {
          if (a instanceof Description) {
            return (Description) a;
          }
        }
      }
    }
    return null;
  }
}
