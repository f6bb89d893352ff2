"""Forms of the demand pages."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import DataRequired, NumberRange


class InterestForm(FlaskForm):
    """ "I want this track in my city": the track and the city, from hidden fields."""

    track_id = IntegerField(validators=[DataRequired(), NumberRange(min=1)])
    city_id = IntegerField(validators=[DataRequired(), NumberRange(min=1)])
    next = HiddenField()
