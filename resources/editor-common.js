/*
 * Editor helpers shared by the node dialogs of @smart-lighting-dali/node-red-smart-lighting-dali.
 *
 * Node-RED serves this file at resources/@smart-lighting-dali/node-red-smart-lighting-dali/editor-common.js;
 * every node's HTML loads it with a <script src> ahead of its own script, and the editor
 * runs a module's inline scripts only once every such file has loaded. It defines one
 * global, SmartLightingEditor. The editor loads it once per node HTML (ten times): a second
 * evaluation keeps the first definition, so it is safe to run any number of times.
 */
/* global window, RED, $ */
(function (root) {
  'use strict';

  if (root.SmartLightingEditor) {
    return;
  }

  /** Catalogue message for a failed validation (false when the node has no translator). */
  function say(node, key, subs) {
    return node && typeof node._ === 'function' ? node._(key, subs) : false;
  }

  /**
   * Validators and dialog access for one node type.
   * options.prefix:   id prefix of the dialog fields, "node-input-" (default) or "node-config-input-".
   * options.range:    catalogue key of "must be a number from __min__ to __max__".
   * options.rangeInt: catalogue key of "must be a whole number from __min__ to __max__".
   */
  function forNode(options) {
    var prefix = options.prefix || 'node-input-';

    /** Value of another field: from the open edit dialog if present, else from the node. */
    function field(node, prop) {
      var input = $('#' + prefix + prop);
      return input.length ? input.val() : node[prop];
    }

    /** RED.validators.number() plus a range (whole numbers when `integer`); blank passes when `optional`, `${VAR}` always. */
    function numberIn(min, max, integer, optional) {
      var isNumber = RED.validators.number();
      var key = integer ? options.rangeInt : options.range;
      return function (v) {
        if (optional && (v === '' || v === undefined || v === null)) {
          return true;
        }
        // An environment variable (`${VAR}`), substituted by Node-RED at deploy; the node checks the value.
        if (typeof v === 'string' && /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(v.trim())) {
          return true;
        }
        var n = Number(v);
        if (String(v).trim() !== '' && isNumber(v) === true && isFinite(n) && n >= min && n <= max && (!integer || Math.floor(n) === n)) {
          return true;
        }
        return say(this, key, { min: min, max: max });
      };
    }

    /** numberIn(min, max, integer), then `check` (called like a validator) once the number is in range. */
    function numberThen(min, max, integer, check) {
      var inRange = numberIn(min, max, integer);
      return function (v, opt) {
        var result = inRange.call(this, v, opt);
        return result !== true ? result : check.call(this, v, opt);
      };
    }

    return { say: say, field: field, numberIn: numberIn, numberThen: numberThen, cron: cron, timeZone: timeZone };
  }

  /** One cron field: *, numbers, names, ranges, lists and steps (also ? L W # of extended cron, as the `cron` package reads them). */
  var CRON_FIELD = /^[0-9A-Za-z*?,/#LW-]+$/;

  /** A cron schedule of 5 or 6 fields; blank passes (the node then runs on input only). */
  function cron(key) {
    return function (v) {
      var text = String(v || '').trim();
      if (text === '') {
        return true;
      }
      var fields = text.split(/\s+/);
      var ok =
        (fields.length === 5 || fields.length === 6) &&
        fields.every(function (f) {
          return CRON_FIELD.test(f);
        });
      return ok || say(this, key);
    };
  }

  /** An IANA time zone name such as Europe/Berlin; blank passes (the runtime's zone). */
  function timeZone(key) {
    return function (v) {
      var text = String(v || '').trim();
      return text === '' || /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(text) || say(this, key);
    };
  }

  /** Label functions of a node definition (called by the editor with the node as `this`). */
  var label = {
    /** The catalogue text at `key`. */
    text: function (key) {
      return function () {
        return this._(key);
      };
    },
    /** The node's name, else the catalogue text at `key`. */
    nameOr: function (key) {
      return function () {
        return this.name || this._(key);
      };
    },
    /** labelStyle: italic while the node shows a default label. */
    italicUnlessNamed: function () {
      return this.name ? 'node_label_italic' : '';
    },
    /** outputLabels: `first` for output 1, `other` for the rest. */
    firstOr: function (first, other) {
      return function (index) {
        return this._(index === 0 ? first : other);
      };
    },
  };

  /** Show the rows matching `whenTrue` and hide those matching `whenFalse` when `condition` holds, and the reverse. */
  function toggleRows(whenTrue, whenFalse, condition) {
    $(whenTrue).toggle(condition);
    $(whenFalse).toggle(!condition);
  }

  /** Fields validated against `source`: re-validate `targets` whenever `source` fires `event` (default "change"). */
  function revalidateOn(source, targets, event) {
    $(source).on(event || 'change', function () {
      $(targets).trigger('change');
    });
  }

  /** Fields validated together: typing in one re-validates the others. */
  function revalidateTogether(selector) {
    var fields = $(selector);
    fields.on('input', function () {
      fields.not(this).trigger('change');
    });
  }

  root.SmartLightingEditor = {
    say: say,
    forNode: forNode,
    label: label,
    toggleRows: toggleRows,
    revalidateOn: revalidateOn,
    revalidateTogether: revalidateTogether,
  };
})(typeof window !== 'undefined' ? window : globalThis);
