"""Functions a scan may wrongly report: nothing here is a JSONP callback, so nothing may change."""
import json


def read_options(pairs, extra):
    jsonp_opt = pairs.get("jsonp")
    if jsonp_opt is not None:
        extra.append(jsonp_opt.child_by_field_name("value"))
    return extra


def run_job(job, callback=None):
    result = json.dumps(job.run())
    if callback:
        callback(result)
    return result


def tag_for(settings):
    cb = settings["callback"]
    return "<script>%s(%s)</script>" % (cb, json.dumps(settings))
