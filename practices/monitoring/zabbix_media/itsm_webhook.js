// Zabbix webhook media type "ITSM": posts the event to the ITSM platform's Zabbix receiver
// and writes the incident it opened back into the event's tags (process_tags).
// Zabbix runs this with Duktape (ECMAScript 5.1): no let, const or arrow functions.
var SETTINGS = ['itsm_url', 'itsm_token', 'HTTPProxy'];

function isSet(text) {
    // An empty value, Zabbix's "*UNKNOWN*" or a macro Zabbix left unexpanded is not set.
    return typeof text === 'string' && text !== '' && text !== '*UNKNOWN*'
        && !/^\{[^{}]+\}$/.test(text);
}

try {
    var params = JSON.parse(value),
        body = {},
        request = new HttpRequest(),
        result = {tags: {}},
        response,
        status,
        answer;

    if (!isSet(params.itsm_url) || !/^https?:\/\//.test(params.itsm_url)) {
        throw 'Parameter "itsm_url" must be the ITSM receiver\'s http(s) URL.';
    }
    if (!isSet(params.itsm_token) || params.itsm_token.charAt(0) === '<') {
        throw 'Parameter "itsm_token" must be the integration\'s token.';
    }

    Object.keys(params).forEach(function (name) {
        if (SETTINGS.indexOf(name) === -1) {
            body[name] = params[name];
        }
    });
    if (isSet(body.event_tags) && body.event_tags.charAt(0) === '[') {
        try {
            body.event_tags = JSON.parse(body.event_tags);
        }
        catch (error) {
            // Sent as it is: the receiver says what is wrong with it.
        }
    }

    request.addHeader('Content-Type: application/json');
    request.addHeader('Accept: application/json');
    request.addHeader('Authorization: Bearer ' + params.itsm_token);
    if (typeof params.HTTPProxy === 'string' && params.HTTPProxy.trim() !== '') {
        request.setProxy(params.HTTPProxy);
    }

    Zabbix.log(4, '[ITSM webhook] sending event ' + body.event_id + ' to ' + params.itsm_url);
    response = request.post(params.itsm_url, JSON.stringify(body));
    status = request.getStatus();
    Zabbix.log(4, '[ITSM webhook] answer ' + status + ': ' + response);

    if (status < 200 || status >= 300) {
        throw 'the receiver answered ' + status + ': ' + String(response).substring(0, 1000);
    }

    try {
        answer = JSON.parse(response);
    }
    catch (error) {
        answer = null;
    }

    // The incident is written back once: when the event does not carry it yet.
    if (answer !== null && typeof answer === 'object' && typeof answer.incident === 'string'
            && answer.incident !== '' && !isSet(params.itsm_incident)) {
        result.tags.__itsm_incident = answer.incident;
        if (typeof answer.url === 'string' && answer.url !== '') {
            result.tags.__itsm_link = answer.url;
        }
    }

    return JSON.stringify(result);
}
catch (error) {
    Zabbix.log(3, '[ITSM webhook] sending failed: ' + error);
    throw 'Sending to ITSM failed: ' + error;
}
