package dev.sluice.jmx;

/** An MXBean with an {@code ENABLED}/{@code DISABLED} {@code State} that announces its changes. */
abstract class SwitchBean extends DescribedBean {

  SwitchBean(Class<?> type, String what) {
    super(
        type,
        changes(
            "The "
                + what
                + "'s State (or EffectiveState) changed; the notification carries the old and"
                + " the new value"));
  }

  /** Announces a change of the enforced state with an attribute-change notification. */
  public void stateChanged(boolean wasDisabled, boolean nowDisabled) {
    announce("State", stateName(wasDisabled), stateName(nowDisabled));
  }

  static String stateName(boolean disabled) {
    return disabled ? "DISABLED" : "ENABLED";
  }
}
